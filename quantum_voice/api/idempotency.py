"""``Idempotency-Key`` on POSTs under /api: a client that retries a POST after a timeout or a dropped connection
gets the first attempt's answer again instead of a second campaign, upload or webhook (docs/developers.md).

* The key is 1-255 printable ASCII characters, chosen by the client (a UUID is usual); anything else is a 400.
* It is scoped to the organisation, the credential (``key:<api key id>`` or ``user:<user id>``), the method and the
  path: two callers, or two routes, never share a key.
* The first request is reserved in a transaction of its own, runs as usual (its own transaction, committed before
  its response starts), and a 2xx answer of at most ``MAX_STORED_BODY`` is stored in a third transaction for
  ``KEPT_FOR``. No database transaction is held open around the route's work.
* A retry with the same body gets the stored status, body and ``Content-Type``/``Location``, with
  ``Idempotent-Replayed: true``, and the route does not run. The same key with another body: 422
  ``idempotency_key_reused``. While the first still runs: 409 ``idempotency_key_in_progress``.
* Nothing else is stored: an error (4xx, 5xx), a body too large to keep or a request without a valid credential
  leaves no trace, so it can be retried and run again. A reservation whose request died with its process is
  released after ``ABANDONED_AFTER``.
* ``purge_expired`` (the worker, every pass) deletes what is past its 24 hours.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from anyio import to_thread
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col, select
from starlette.requests import Request

from quantum_voice.core.clock import utcnow
from quantum_voice.core.db import session_scope
from quantum_voice.core.security import hash_token
from quantum_voice.models.accounts import UserSession
from quantum_voice.models.developer import ApiKey, IdempotentRequest

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
MAX_STORED_BODY = 256 * 1024
KEPT_FOR = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=10)
REPLAYED_HEADERS = (b"content-type", b"location")
_PRINTABLE = re.compile(r"^[\x20-\x7e]+$")


@dataclass(frozen=True)
class Caller:
    organization_id: int
    credential: str  # "key:3" or "user:7"


@dataclass(frozen=True)
class Outcome:
    """What ``reserve`` decided: run the request (``reserved_id``), answer with a stored response, or refuse."""

    reserved_id: int | None = None
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()


def key_problem(key: str) -> str | None:
    if not key or len(key) > MAX_KEY_LENGTH:
        return (f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} characters long (a UUID is usual); this one "
                f"has {len(key)}.")
    if not _PRINTABLE.match(key):
        return f"The {HEADER} header may hold only printable ASCII characters (a UUID is usual)."
    return None


def caller_of(scope) -> Caller | None:
    """Who sends the request, read without side effects; None when the credential is not valid (the route itself
    then refuses the request, and nothing is reserved)."""
    from quantum_voice.api.deps import request_token  # deps imports the services; import it when first used
    from quantum_voice.services.developer.key_auth import is_api_key

    request = Request(scope)
    token = request_token(request)
    if not token:
        return None
    now = utcnow()
    with session_scope() as session:
        if is_api_key(token):
            key = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_token(token))).first()
            if key is None or key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
                return None
            return Caller(key.organization_id, f"key:{key.id}")
        row = session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        return Caller(row.organization_id, f"user:{row.user_id}")


def request_hash(body: bytes, content_type: str) -> str:
    """SHA-256 of the body; a multipart body's boundary (new on every send) does not count."""
    boundary = re.search(r"boundary=\"?([^\";]+)", content_type)
    if content_type.startswith("multipart/") and boundary:
        body = body.replace(boundary.group(1).encode("latin-1"), b"")
    return hashlib.sha256(body).hexdigest()


def _error(status: int, code: str, message: str) -> Outcome:
    body = json.dumps({"error": {"code": code, "message": message, "field": HEADER}}).encode()
    return Outcome(status=status, body=body, headers=((b"content-type", b"application/json"),))


def _answer(row: IdempotentRequest, digest: str) -> Outcome:
    if row.request_hash != digest:
        return _error(422, "idempotency_key_reused",
                      f"This {HEADER} was already used with a different request body. Use a new key for a new "
                      "request.")
    if row.status_code is None:
        return _error(409, "idempotency_key_in_progress",
                      f"A request with this {HEADER} is still running. Retry once it has finished.")
    headers = tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in row.response_headers.items())
    return Outcome(status=row.status_code, body=(row.response_body or "").encode(),
                   headers=(*headers, (REPLAYED_HEADER.lower().encode(), b"true")))


def reserve(caller: Caller, method: str, path: str, key: str, digest: str) -> Outcome:
    """Reserve ``key`` for this request (its own short transaction), or say how to answer without running it."""
    now = utcnow()
    try:
        with session_scope() as session:
            row = session.exec(select(IdempotentRequest).where(
                IdempotentRequest.organization_id == caller.organization_id,
                IdempotentRequest.caller == caller.credential, IdempotentRequest.method == method,
                IdempotentRequest.path == path, IdempotentRequest.idempotency_key == key)).first()
            if row is not None and (row.expires_at <= now or
                                    (row.status_code is None and row.created_at <= now - ABANDONED_AFTER)):
                session.delete(row)
                session.flush()
                row = None
            if row is not None:
                return _answer(row, digest)
            reserved = IdempotentRequest(organization_id=caller.organization_id, caller=caller.credential,
                                         method=method, path=path[:500], idempotency_key=key, request_hash=digest,
                                         created_at=now, expires_at=now + KEPT_FOR)
            session.add(reserved)
            session.flush()
            return Outcome(reserved_id=reserved.id)
    except IntegrityError:  # the same key reserved by a request that arrived at the same moment
        return _error(409, "idempotency_key_in_progress",
                      f"A request with this {HEADER} is still running. Retry once it has finished.")


def finish(reserved_id: int, status: int, headers: list[tuple[bytes, bytes]], body: bytes | None) -> None:
    """Keep a 2xx answer for the retries; anything else frees the key, so the request may run again."""
    text = _storable(status, body)
    with session_scope() as session:
        row = session.get(IdempotentRequest, reserved_id)
        if row is None:
            return
        if text is None:
            session.delete(row)
            return
        row.status_code = status
        row.response_body = text
        row.response_headers = {name.decode("latin-1"): value.decode("latin-1")
                                for name, value in headers if name.lower() in REPLAYED_HEADERS}


def _storable(status: int, body: bytes | None) -> str | None:
    if not 200 <= status < 300 or body is None or len(body) > MAX_STORED_BODY:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def purge_expired(now: datetime | None = None) -> int:
    """Delete the records past their 24 hours (the worker's periodic pass)."""
    with session_scope() as session:
        cutoff = now or utcnow()
        result = session.execute(delete(IdempotentRequest).where(col(IdempotentRequest.expires_at) <= cutoff))
        return result.rowcount or 0


class IdempotencyKeys:
    """ASGI middleware for POSTs under /api that carry an ``Idempotency-Key``: reserve, run, keep the answer."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" or not scope.get("path", "").startswith("/api"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        raw_key = headers.get(HEADER.lower().encode())
        if raw_key is None:
            return await self.app(scope, receive, send)
        key = raw_key.decode("latin-1")
        problem = key_problem(key)
        if problem:
            return await _send(send, _error(400, "invalid_idempotency_key", problem))
        body, replay = await _read_body(receive)
        caller = await to_thread.run_sync(caller_of, scope)
        if body is None or caller is None:
            return await self.app(scope, replay, send)
        digest = request_hash(body, headers.get(b"content-type", b"").decode("latin-1"))
        outcome = await to_thread.run_sync(reserve, caller, "POST", scope["path"], key, digest)
        if outcome.reserved_id is None:
            return await _send(send, outcome)
        await self._run(scope, replay, send, outcome.reserved_id)

    async def _run(self, scope, receive, send, reserved_id: int) -> None:
        status, kept_headers, chunks, size = 500, [], [], 0

        async def recording_send(message):
            nonlocal status, kept_headers, size
            if message["type"] == "http.response.start":
                status, kept_headers = message["status"], list(message.get("headers") or [])
            elif message["type"] == "http.response.body" and size <= MAX_STORED_BODY:
                chunk = message.get("body", b"")
                size += len(chunk)
                chunks.append(chunk)
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except BaseException:
            await _settle(reserved_id, 500, [], None)
            raise
        await _settle(reserved_id, status, kept_headers, b"".join(chunks) if size <= MAX_STORED_BODY else None)


async def _settle(reserved_id: int, status: int, headers: list, body: bytes | None) -> None:
    try:
        await to_thread.run_sync(finish, reserved_id, status, headers, body)
    except SQLAlchemyError as exc:  # the answer was sent; the reservation lapses after ABANDONED_AFTER
        log.warning("could not store the answer for idempotent request #%s: %s", reserved_id,
                    str(exc).splitlines()[0][:200])


async def _read_body(receive):
    """The whole body (None when the client went away first) and a ``receive`` that hands it to the route."""
    chunks, messages, more = [], [], True
    while more:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, _replay(messages, receive)
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    return body, _replay([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replay(messages: list[dict], receive):
    async def replayed():
        if messages:
            return messages.pop(0)
        return await receive()
    return replayed


async def _send(send, outcome: Outcome) -> None:
    headers = [*outcome.headers, (b"content-length", str(len(outcome.body)).encode())]
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": outcome.body})
