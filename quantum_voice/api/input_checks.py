"""Input the database cannot hold, refused at the edge with a 422 that says which field and why.

* Whole numbers beyond 64 bits (ids in the path, ``?offset=10**20``, numbers in a JSON body) used to reach the
  database and fail there with a 500.
* Text with a lone UTF-16 surrogate ("\\ud800") cannot be stored as UTF-8; NUL and other control characters
  (tab and newlines aside) and the invisible direction controls (U+202A-U+202E, U+2066-U+2069, which make text
  read differently from what it is: "Trojan Source") were stored as sent.

Nothing is stripped silently: the request is refused and the caller told what to fix.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from quantum_voice.core.storable import MAX_INT, number_problem, text_problem

_NUMBER = re.compile(r"^-?\d+$")


def json_problem(value: Any, where: str = "body") -> tuple[str, str] | None:
    """(field path, reason) of the first value in a parsed JSON body that cannot be stored."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return None
    if isinstance(value, int):
        reason = number_problem(value)
        return (where, reason) if reason else None
    if isinstance(value, str):
        reason = text_problem(value)
        return (where, reason) if reason else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = json_problem(key, where) if isinstance(key, str) and text_problem(key) else None
            found = found or json_problem(item, f"{where}.{key}" if where != "body" else str(key))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = json_problem(item, f"{where}.{index}")
            if found:
                return found
    return None


def address_problem(path: str, query: str) -> tuple[str, str] | None:
    for segment in path.split("/"):
        text = unquote(segment, errors="surrogatepass")
        if _NUMBER.match(text) and int(text) > MAX_INT:
            return "path", f"'{text[:30]}…' {number_problem(int(text))}"
        if text_problem(text):
            return "path", text_problem(text) or ""
    for name, value in parse_qsl(query, keep_blank_values=True):
        if _NUMBER.match(value) and abs(int(value)) > MAX_INT:
            return name, number_problem(int(value)) or ""
        if text_problem(value) or text_problem(name):
            return name, text_problem(value) or text_problem(name) or ""
    return None


class InputChecks:
    """ASGI middleware for /api requests: the address, then a JSON body, checked before any route sees them."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope.get("path", "").startswith("/api"):
            return await self.app(scope, receive, send)
        problem = address_problem(scope.get("path", ""), scope.get("query_string", b"").decode("latin-1"))
        if problem:
            return await _refuse(send, *problem)
        headers = dict(scope.get("headers") or [])
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            problem = json_problem(json.loads(body)) if body else None
        except UnicodeDecodeError:  # FastAPI would answer a bare 400 "error parsing the body"
            return await _send_error(send, "invalid_json", "The request body is not valid JSON (nor UTF-8 text).",
                                     "body")
        except (ValueError, RecursionError):
            problem = None  # not JSON: the route says so
        if problem:
            return await _refuse(send, *problem)
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[dict], receive=None):
    async def replayed():
        if messages:
            return messages.pop(0)
        if receive is not None:
            return await receive()
        return {"type": "http.disconnect"}
    return replayed


async def _refuse(send, field: str, reason: str) -> None:
    await _send_error(send, "validation_error", f"{field}: {reason}.", field)


async def _send_error(send, code: str, message: str, field: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "field": field}}, ensure_ascii=True).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
