"""WS /api/handoffs/{id}/audio: the audio bridge between the agent who accepted a hand-off and its caller, for a
call on an embedded voice sidecar (WebRTC or the WebSocket fallback; not LiveKit).

The agent's page opens it with the sign-in cookie, from the app's own origin (a page on another site must not open
it with the visitor's cookie: cross-site WebSocket hijacking); an API client may send ``Authorization: Bearer``.
The checks, in order: signed in (401), a role that works calls (403), the hand-off in the user's organisation
(404), accepted (409 ``handoff_not_accepted``) by this user (403 ``not_your_call``), its call still open (409
``call_ended``) on an embedded sidecar (409 ``call_not_bridgeable``), which runs it (404 ``call_not_here``) with no
other agent on it (409 ``agent_already_joined``). A refusal is ``{"type": "error", "status", "code", "message"}``
and the socket closes (1008 refused, 1011 try again later).

Joined: ``{"type": "joined", "conversation_id"}``; then binary messages are 16 kHz mono s16le PCM both ways (the
agent's microphone up, at most ``MAX_MESSAGE_BYTES`` each, 20–40 ms is best; the caller's voice down in real-time
20 ms frames). ``{"type": "ended", "reason"}`` comes when the call ends, or when the hand-off is no longer this
agent's (released to the AI, completed: the reason is ``handoff_<status>``), and the socket closes. The page may
send ``{"type": "leave"}`` or simply close: the call goes on. The app relays to the sidecar's
``GET /calls/agent-socket`` (``agent/transports/agent_socket.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool

from quantum_voice.api.deps import request_token
from quantum_voice.api.socket_relay import refuse, relay
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import Conflict, DomainError, NotAuthenticated, NotFound, PermissionDenied
from quantum_voice.core.origins import is_trusted_origin
from quantum_voice.models.calls import Conversation, ConversationStatus
from quantum_voice.models.handoff import Handoff, HandoffStatus
from quantum_voice.services import media
from quantum_voice.services.accounts import resolve_token
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/handoffs", tags=["handoffs"])

MAX_MESSAGE_BYTES = media.MAX_SOCKET_MESSAGE_BYTES  # 2 s of PCM, as the sidecar's
MAX_TEXT_CHARS = 1_000  # {"type": "leave"} is all the page says
HANDOFF_CHECK_SECONDS = 5.0  # how soon a released or completed hand-off stops the agent's audio
MAX_AGENT_NAME_CHARS = 120  # as the sidecar's
_HTTP_SCHEME = {"ws": "http", "wss": "https"}  # the page's origin is http(s); the socket's URL is ws(s)
_OVER = (ConversationStatus.ENDED.value, ConversationStatus.FAILED.value)


@dataclass(frozen=True)
class AgentJoin:
    """What the checks found: whose hand-off, which call, on which sidecar."""

    handoff_id: int
    user_id: int
    agent_name: str
    conversation_id: int
    sidecar: tuple[str, str]  # (worker id, media URL)


@router.websocket("/{handoff_id}/audio")
async def handoff_audio(websocket: WebSocket, handoff_id: int) -> None:
    await websocket.accept()
    try:
        token = request_token(websocket)  # type: ignore[arg-type]
        if token:
            _check_origin(websocket)
        join = await run_in_threadpool(checked_join, token, handoff_id)
        sidecar = await media.open_agent_socket(join.sidecar, conversation_id=join.conversation_id,
                                                handoff_id=join.handoff_id, agent_name=join.agent_name)
    except DomainError as exc:
        await refuse(websocket, exc.status, exc.code, exc.message)
        return
    except Exception:
        log.exception("the audio of hand-off %s could not be bridged", handoff_id)
        await refuse(websocket, 500, "internal_error", "Something went wrong on our side. Please try again.")
        return
    try:
        await websocket.send_json({"type": "joined", "conversation_id": join.conversation_id})
        await _relay(websocket, sidecar, join)
    finally:
        await sidecar.close()


def _check_origin(websocket: WebSocket) -> None:
    """The sign-in cookie counts only on a socket the app's own pages open (browsers always send ``Origin`` with
    a WebSocket; they cannot send ``Authorization``, so a bearer token needs no such check)."""
    if websocket.headers.get("authorization", "").lower().startswith("bearer "):
        return
    scheme = _HTTP_SCHEME.get(websocket.url.scheme, websocket.url.scheme)
    if not is_trusted_origin(websocket.headers.get("origin"), host=websocket.headers.get("host"), scheme=scheme,
                             forwarded_proto=websocket.headers.get("x-forwarded-proto")):
        raise PermissionDenied("This page is on another site, so the sign-in cookie does not count for it. Open "
                               "the call from the app's own pages.", code="cross_site_request")


def checked_join(token: str | None, handoff_id: int) -> AgentJoin:
    """May the person signed in with ``token`` hear and speak to the caller of ``handoff_id`` now? The call's
    sidecar, or the ``DomainError`` that says why not."""
    with session_scope() as session:
        ctx = resolve_token(session, token)
        if ctx is None:
            raise NotAuthenticated("Sign in first, then accept the caller from the queue.")
        repo = OrgRepository(session, ctx.scope)
        repo.scope.require(Permission.WORK_CALLS)
        handoff = repo.get(Handoff, handoff_id)  # another organisation's: not found
        if handoff.status != HandoffStatus.ACCEPTED.value:
            raise Conflict(f"This caller is not with an agent (the hand-off is {handoff.status}). Accept the caller "
                           "first.", code="handoff_not_accepted")
        if handoff.assigned_user_id != ctx.user.id:
            raise PermissionDenied("Another agent took this caller.", code="not_your_call")
        conversation = repo.get(Conversation, handoff.conversation_id)
        if conversation.status in _OVER:
            raise Conflict("This caller has hung up.", code="call_ended")
        try:
            sidecar = media.sidecar_of_call(session, conversation.worker_id or "")
        except NotFound:
            raise Conflict("This call's audio cannot be bridged: it is not on a running voice sidecar (a LiveKit "
                           "call, or its sidecar was lost).", code="call_not_bridgeable") from None
        name = (ctx.user.full_name or ctx.user.email)[:MAX_AGENT_NAME_CHARS]
        return AgentJoin(handoff.id, ctx.user.id, name, conversation.id, sidecar[0])  # type: ignore[arg-type]


def still_on_call(handoff_id: int, user_id: int) -> str | None:
    """``None`` while the hand-off is accepted by ``user_id``; otherwise why the agent's audio stops."""
    with session_scope() as session:
        handoff = session.get(Handoff, handoff_id)
        if handoff is None:
            return "handoff_deleted"
        if handoff.status != HandoffStatus.ACCEPTED.value:
            return f"handoff_{handoff.status}"
        return None if handoff.assigned_user_id == user_id else "handoff_reassigned"


async def _relay(page: WebSocket, sidecar: media.SidecarSocket, join: AgentJoin) -> None:
    """Both directions until either side closes, or the hand-off is no longer this agent's."""
    async def watch() -> None:
        while True:
            await asyncio.sleep(HANDOFF_CHECK_SECONDS)
            reason = await run_in_threadpool(still_on_call, join.handoff_id, join.user_id)
            if reason is not None:
                log.info("hand-off %s is %s: its agent's audio stops", join.handoff_id, reason)
                await page.send_text(json.dumps({"type": "ended", "reason": reason}))
                return

    await relay(page, sidecar, max_bytes=MAX_MESSAGE_BYTES, max_text=MAX_TEXT_CHARS, also=(watch(),))
