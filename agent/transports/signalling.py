"""The sidecar's media server: the app's signalling for browser calls, over HTTP in the sidecar's event loop.

Only the app talks to it (``quantum_voice.services.media``), never browsers: every request carries the key
derived from the shared SECRET_KEY in ``X-Voice-Sidecar-Key``, anything else gets 401.

* ``POST /calls`` ``{"campaign_id": int, "sdp": str, "type": "offer", "setup": {CallSetup fields}}`` → opens the
  conversation, computes the greeting and answers ``{"sdp", "type": "answer", "call_id", "conversation_id"}``.
* ``POST /calls/resume`` ``{"conversation_id": int, "campaign_id": int, "sdp": str, "type": "offer"}`` → carries on
  an open conversation whose sidecar was lost (no new conversation, no greeting: the agent says they got cut off
  once the browser is connected) and answers as ``POST /calls``; 409 ``call_ended`` for a call that has ended.
* ``GET /calls/socket`` (a WebSocket) → a call whose media is PCM over that socket, a WebRTC call that never
  connected moved onto it, or a lost call resumed on it: the protocol is in ``agent/transports/pcm_socket.py``.
  The app relays the browser's socket here.
* ``GET /calls/agent-socket`` (a WebSocket) → a human agent's browser joins a call running here (the hand-off):
  ``{"type": "join", "conversation_id", "handoff_id", "agent_name"}`` first, then PCM both ways; the protocol is in
  ``agent/transports/agent_socket.py``. The app checks who may join and relays the agent's socket here.
* ``GET /conversations/{conversation_id}/call`` → ``{"call_id", "conversation_id"}`` while that conversation's call
  runs here, else 404 (the app asks before resuming a call elsewhere).
* ``POST /calls/{call_id}/hangup`` (optional ``{"reason": str}``, default ``caller_hung_up``) →
  ``{"call_id", "ended": true, "reason"}``; 404 when the call is not (or no longer) here.
* ``GET /health`` → ``{"status": "ok", "worker_id", "active_calls", "capacity"}``.

Errors are ``{"error": {"code", "message"}}`` (and ``field`` where one is at fault): an unknown campaign 404, a
campaign with no published flow 409, a bad offer 400, a wrong setup 422, this sidecar at capacity 503 (on the
socket, the same as its ``error`` message).
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
from typing import Any

from aiohttp import WSMsgType, web

from agent.transports import pcm_socket
from agent.transports.agent_socket import MAX_AGENT_NAME_CHARS, AgentPeer
from agent.transports.browser_calls import BrowserCall, BrowserCalls
from agent.transports.pcm_socket import SocketPeer
from agent.transports.webrtc import WebRTCPeer
from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.errors import DomainError, NotFound, ValidationFailed
from quantum_voice.services.media import SIGNALLING_HEADER, setup_from_json, signalling_key

log = logging.getLogger(__name__)

_CALLS = web.AppKey("calls", BrowserCalls)
MAX_REASON_CHARS = 60  # conversations.end_reason


def signalling_app(calls: BrowserCalls, key: str) -> web.Application:
    app = web.Application(middlewares=[_guard(key.encode())])
    app[_CALLS] = calls
    app.router.add_post("/calls", open_call)
    app.router.add_post("/calls/resume", resume_call)
    app.router.add_get("/calls/socket", socket_call)
    app.router.add_get("/calls/agent-socket", agent_socket)
    app.router.add_post("/calls/{call_id}/hangup", hang_up_call)
    app.router.add_get("/conversations/{conversation_id}/call", call_of_conversation)
    app.router.add_get("/health", health)
    return app


def _guard(key: bytes):
    @web.middleware
    async def guard(request: web.Request, handler) -> web.StreamResponse:
        given = request.headers.get(SIGNALLING_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, key):
            return _error(401, "not_authenticated", "Missing or wrong signalling key: only the app opens calls "
                          "here, and it must share SECRET_KEY (or the data dir it is kept in) with the sidecar.")
        try:
            return await handler(request)
        except DomainError as exc:
            return _error(exc.status, exc.code, exc.message, exc.field)
        except web.HTTPException as exc:  # no such route or method
            return _error(exc.status, "not_found" if exc.status == 404 else "bad_request",
                          f"{request.method} {request.path} is not part of the sidecar's signalling: see "
                          "agent/transports/signalling.py.")
        except Exception:
            log.exception("signalling request %s %s failed", request.method, request.path)
            return _error(500, "internal_error", "The voice sidecar failed to handle the request; its log says "
                          "why. Try again.")
    return guard


async def open_call(request: web.Request) -> web.Response:
    body = await _json_body(request)
    campaign_id, offer, setup = _campaign_id(body), _offer(body), setup_from_json(body.get("setup"))
    peer = WebRTCPeer(offer)
    browser_call = await request.app[_CALLS].open(campaign_id, setup, peer)
    return _answer(peer, browser_call)


async def resume_call(request: web.Request) -> web.Response:
    body = await _json_body(request)
    campaign_id, conversation_id, offer = _campaign_id(body), _conversation_id(body), _offer(body)
    peer = WebRTCPeer(offer)
    browser_call = await request.app[_CALLS].resume(campaign_id, conversation_id, peer)
    return _answer(peer, browser_call)


def _offer(body: dict[str, Any]) -> str:
    if body.get("type") != "offer" or not isinstance(body.get("sdp"), str):
        raise DomainError('Send the browser\'s WebRTC offer: {"sdp": "...", "type": "offer"}.', code="bad_offer",
                          field="sdp")
    return body["sdp"]


def _answer(peer: WebRTCPeer, browser_call: BrowserCall) -> web.Response:
    return web.json_response({"sdp": peer.answer_sdp, "type": "answer", "call_id": browser_call.id,
                              "conversation_id": browser_call.conversation_id})


async def call_of_conversation(request: web.Request) -> web.Response:
    try:
        conversation_id = int(request.match_info["conversation_id"])
    except ValueError:
        raise ValidationFailed("The conversation id must be an integer.", field="conversation_id") from None
    browser_call = request.app[_CALLS].running(conversation_id)
    if browser_call is None:
        raise NotFound(f"Conversation {conversation_id} has no call on this voice sidecar.")
    return web.json_response({"call_id": browser_call.id, "conversation_id": conversation_id})


async def _prepared_socket(request: web.Request, protocol: str) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=pcm_socket.MAX_MESSAGE_BYTES, compress=False)
    if not ws.can_prepare(request).ok:
        raise DomainError(f"GET {request.path} is a WebSocket: open it with a WebSocket client (the protocol is in "
                          f"{protocol}).", code="bad_request")
    await ws.prepare(request)
    return ws


async def socket_call(request: web.Request) -> web.WebSocketResponse:
    """A browser call over this WebSocket (pcm_socket.py): its start message, then the call until it closes."""
    ws = await _prepared_socket(request, "agent/transports/pcm_socket.py")
    peer = SocketPeer(ws)
    try:
        start = await _start_message(ws)
        calls = request.app[_CALLS]
        if start.get("type") == "take_over":
            call_id = start.get("call_id")
            if not isinstance(call_id, str) or not call_id:
                raise ValidationFailed("call_id must be the id of the call to move onto this socket.",
                                       field="call_id")
            browser_call = await calls.take_over(call_id, peer)
        elif start.get("type") == "resume":
            browser_call = await calls.resume(_campaign_id(start), _conversation_id(start), peer)
        else:
            browser_call = await calls.open(_campaign_id(start), setup_from_json(start.get("setup")), peer)
    except DomainError as exc:
        await _refuse(ws, exc.status, exc.code, exc.message)
        return ws
    except Exception:
        log.exception("opening a socket call failed")
        await _refuse(ws, 500, "internal_error", "The voice sidecar failed to open the call; its log says why. "
                      "Try again.")
        return ws
    peer.start(browser_call.id, browser_call.conversation_id)
    await peer.run()
    return ws


async def agent_socket(request: web.Request) -> web.WebSocketResponse:
    """A human agent's browser joins a call running here (agent_socket.py): its join message, then the bridge
    until the agent leaves or the call ends."""
    ws = await _prepared_socket(request, "agent/transports/agent_socket.py")
    try:
        join = await _first_message(ws, ("join",), 'Send {"type": "join", "conversation_id": ..., "handoff_id": '
                                    '..., "agent_name": "..."} as the socket\'s first message.')
        conversation_id, handoff_id = _conversation_id(join), join.get("handoff_id")
        agent_name = join.get("agent_name")
        if not isinstance(agent_name, str) or len(agent_name) > MAX_AGENT_NAME_CHARS:
            raise ValidationFailed(f"agent_name must be the agent's name (at most {MAX_AGENT_NAME_CHARS} "
                                   "characters).", field="agent_name")
        if not isinstance(handoff_id, int) or isinstance(handoff_id, bool):
            raise ValidationFailed("handoff_id must be the hand-off's id (an integer).", field="handoff_id")
        browser_call = request.app[_CALLS].running(conversation_id)
        if browser_call is None:
            raise NotFound(f"Conversation {conversation_id} has no call on this voice sidecar.", code="call_not_here")
        peer = AgentPeer(ws, handoff_id=handoff_id, agent_name=agent_name)
        browser_call.join_agent(peer)
    except DomainError as exc:
        await _refuse(ws, exc.status, exc.code, exc.message)
        return ws
    peer.join(conversation_id)  # at once: the call cannot end between the join and this
    log.info("agent %r joined conversation %s for hand-off %s", agent_name, conversation_id, handoff_id)
    await peer.run()
    return ws


async def _start_message(ws: web.WebSocketResponse) -> dict[str, Any]:
    how = ('Send {"type": "start", "campaign_id": ..., "setup": {...}} (or {"type": "take_over", "call_id": ...}, '
           'or {"type": "resume", "conversation_id": ..., "campaign_id": ...}) as the socket\'s first message.')
    return await _first_message(ws, ("start", "take_over", "resume"), how)


async def _first_message(ws: web.WebSocketResponse, types: tuple[str, ...], how: str) -> dict[str, Any]:
    try:
        message = await ws.receive(timeout=pcm_socket.START_TIMEOUT_SECONDS)
    except TimeoutError:
        raise DomainError(f"No {types[0]} message within {pcm_socket.START_TIMEOUT_SECONDS:.0f} s. {how}",
                          code="bad_request") from None
    try:
        first = json.loads(message.data) if message.type == WSMsgType.TEXT else None
    except ValueError:
        first = None
    if not isinstance(first, dict) or first.get("type") not in types:
        raise DomainError(how, code="bad_request")
    return first


async def _refuse(ws: web.WebSocketResponse, status: int, code: str, message: str) -> None:
    if not ws.closed:
        try:
            await ws.send_json(pcm_socket.error(status, code, message))
            await ws.close(code=1011 if status >= 500 else 1008, message=code.encode()[:120])
        except (ConnectionError, RuntimeError):
            pass  # the other side left first


def _campaign_id(body: dict[str, Any]) -> int:
    campaign_id = body.get("campaign_id")
    if not isinstance(campaign_id, int) or isinstance(campaign_id, bool):
        raise ValidationFailed("campaign_id must be the campaign's id (an integer).", field="campaign_id")
    return campaign_id


def _conversation_id(body: dict[str, Any]) -> int:
    conversation_id = body.get("conversation_id")
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        raise ValidationFailed("conversation_id must be the id of the call to resume (an integer).",
                               field="conversation_id")
    return conversation_id


async def hang_up_call(request: web.Request) -> web.Response:
    body = await _json_body(request, required=False)
    reason = body.get("reason") or "caller_hung_up"
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise ValidationFailed(f"reason must be a short text (at most {MAX_REASON_CHARS} characters).",
                               field="reason")
    call_id = request.match_info["call_id"]
    if not await request.app[_CALLS].hang_up(call_id, reason):
        raise NotFound(f"No call {call_id} on this voice sidecar: it has ended already.")
    return web.json_response({"call_id": call_id, "ended": True, "reason": reason})


async def health(request: web.Request) -> web.Response:
    calls = request.app[_CALLS]
    return web.json_response({"status": "ok", "worker_id": calls.worker_id, "active_calls": calls.active,
                              "capacity": calls.capacity})


async def _json_body(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    text = await request.text()
    if not text.strip() and not required:
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise DomainError("The request body must be a JSON object.", code="bad_request")
    return body


def _error(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    error = {"code": code, "message": message}
    if field:
        error["field"] = field
    return web.json_response({"error": error}, status=status)


class MediaServer:
    """The signalling server's lifetime: listen (port 0 → a free one), say where, stop (hanging up every call)."""

    def __init__(self, calls: BrowserCalls, settings: Settings | None = None) -> None:
        self.calls = calls
        self.settings = settings or get_settings()
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    async def start(self) -> str:
        s = self.settings
        self._runner = web.AppRunner(signalling_app(self.calls, signalling_key(s)), access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, s.voice_media_host, s.voice_media_port).start()
        except OSError as exc:
            await self._runner.cleanup()
            raise DomainError(f"The voice sidecar cannot listen on {s.voice_media_host}:{s.voice_media_port} "
                              f"({exc.strerror or exc}). Set VOICE_MEDIA_PORT to a free port, or 0 for any.",
                              code="media_port_unavailable") from None
        port = self._runner.addresses[0][1]
        self.url = s.voice_media_url.rstrip("/") or f"http://{_reachable_host(s.voice_media_host)}:{port}"
        log.info("voice sidecar media server listening on %s:%s (app reaches it at %s)", s.voice_media_host, port,
                 self.url)
        return self.url

    async def stop(self, reason: str = "voice_worker_stopped") -> None:
        await self.calls.hang_up_all(reason)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _reachable_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: the app finds us by our name
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host
