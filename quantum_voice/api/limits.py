"""Every request body is bounded before anything reads it: a JSON request to 2 MB, a document upload to its
configured size (plus room for the form around it), and the upload page's request (Reflex's ``/_upload``) to as
many files of that size as the page takes at once. Too big is a 413 with a clear message, never a stalled app."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException

from quantum_voice.core.config import get_settings
from quantum_voice.services.knowledge.intake import MAX_FILES_PER_UPLOAD

JSON_BODY_LIMIT = 2 * 1024 * 1024
UPLOAD_PATHS = ("/api/knowledge/upload",)
UI_UPLOAD_PATH = "/_upload"  # Reflex's upload endpoint: the knowledge upload page's files, several at once
_MB = 1024 * 1024


def body_limit(path: str) -> int:
    if path.startswith(UPLOAD_PATHS):
        return (get_settings().knowledge_max_upload_mb + 1) * _MB
    if path.rstrip("/") == UI_UPLOAD_PATH:
        return (get_settings().knowledge_max_upload_mb * MAX_FILES_PER_UPLOAD + 1) * _MB
    return JSON_BODY_LIMIT


class BodyTooLarge(HTTPException):
    """An HTTP error (413), so the API's error handler answers it even when raised while a route parses its body."""

    def __init__(self, limit: int):
        super().__init__(413, _text(limit))


def _text(limit: int) -> str:
    return (f"The request body is larger than the {limit // (1024 * 1024)} MB this endpoint accepts. "
            "Send less at a time.")


def _message(limit: int) -> bytes:
    return json.dumps({"error": {"code": "payload_too_large", "message": _text(limit)}}).encode()


class BodySizeLimit:
    """ASGI middleware: refuses a declared ``Content-Length`` over the limit at once, and stops reading a body
    streamed without one as soon as it goes over."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _refuse(send, limit)
        received, started = 0, False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await _refuse(send, limit)


async def _refuse(send, limit: int) -> None:
    body = _message(limit)
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
