"""Browser calls on a voice sidecar: the app's side of the signalling, and the contract both sides share.

A caller's browser sends its WebRTC offer to the app; ``open_browser_call`` picks a live sidecar (fresh heartbeat,
a media URL, room for one more call; least loaded first), posts the offer to the sidecar's media server
(``agent/transports/signalling.py``) and returns its answer. The browser's media then goes straight to that
sidecar over WebRTC; the app only ever talks to the sidecar for signalling.

When WebRTC cannot connect, the page falls back to PCM over a WebSocket on the app's own origin:
``open_sidecar_socket`` opens the matching socket to a sidecar (the same choice of sidecar) and the app relays
between the two (``quantum_voice/api/public_calls.py``; the protocol is ``agent/transports/pcm_socket.py``).

For the hand-off, ``open_agent_socket`` opens a human agent's socket to the sidecar running the caller's call
(``agent/transports/agent_socket.py``); the app relays the agent's page to it (``quantum_voice/api/handoff_audio.py``).

When a sidecar dies mid-call, the page asks to resume: ``sidecars_for_resume`` checks that the call's sidecar is
gone, unreachable or no longer runs it, and lists the live sidecars to try; ``resume_browser_call`` (WebRTC) or
``open_sidecar_socket(resume=...)`` carries the conversation on there.

Every request carries ``SIGNALLING_HEADER``: a key derived from the app's SECRET_KEY, so only the app (which
shares the key with the sidecar, or the data dir it is kept in) can open or end calls. ``setup_as_json`` /
``setup_from_json`` are the wire form of ``CallSetup``, used by both sides.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import types
import typing
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import httpx
from sqlmodel import Session, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.errors import (Conflict, DomainError, NotFound, PermissionDenied, ServiceUnavailable,
                                       ValidationFailed)
from quantum_voice.models.system import VoiceWorker
from quantum_voice.services.conversations import CallSetup

log = logging.getLogger(__name__)

SIGNALLING_HEADER = "X-Voice-Sidecar-Key"
_SIGNALLING_LABEL = b"quantum-voice/sidecar-signalling/v1"
# the sidecar opens the conversation and computes the greeting before it answers
OPEN_TIMEOUT = httpx.Timeout(15.0, connect=3.0)
HANG_UP_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
OPEN_TIMEOUT_SECONDS = 15.0  # the socket's "started" (or "error") after its start message
SOCKET_CONNECT_TIMEOUT_SECONDS = 3.0
MAX_SOCKET_MESSAGE_BYTES = 64 * 1024  # as the sidecar's (agent/transports/pcm_socket.py)
PROBE_TIMEOUT = httpx.Timeout(2.0)  # does the call's own sidecar still run it? (a dead one: refused or silent)
UNAVAILABLE = "The voice agent is not available right now. Please try again in a minute."
RESUME_UNAVAILABLE = "We couldn't reconnect your call. Press Call to start again."
AGENT_AUDIO_UNAVAILABLE = ("The call's voice sidecar cannot be reached right now, so its audio cannot be bridged. "
                           "Try again in a moment.")
STILL_CONNECTED = ("Your call is still connected. If you can't hear the assistant, hang up and press Call to start "
                   "again.")

# a sidecar's 4xx, as the app's own error (its message says what to do)
_ERRORS_BY_STATUS: dict[int, type[DomainError]] = {400: DomainError, 403: PermissionDenied, 404: NotFound,
                                                   409: Conflict, 422: ValidationFailed}


@dataclass
class BrowserCallAnswer:
    sdp: str
    type: str  # "answer"
    call_id: str
    conversation_id: int
    worker_id: str


def signalling_key(settings: Settings | None = None) -> str:
    """The shared key the app sends and the sidecar checks (never the SECRET_KEY itself)."""
    secret = (settings or get_settings()).effective_secret_key.encode()
    return hmac.new(secret, _SIGNALLING_LABEL, hashlib.sha256).hexdigest()


def live_sidecars(session: Session, *, settings: Settings | None = None) -> list[VoiceWorker]:
    """Sidecars that can take a browser call now: a fresh heartbeat, a media URL and a free slot, least loaded
    first (then the most recently heard from)."""
    settings = settings or get_settings()
    cutoff = utcnow() - timedelta(seconds=settings.sidecar_heartbeat_timeout_seconds)
    query = (select(VoiceWorker)
             .where(VoiceWorker.last_heartbeat_at >= cutoff, VoiceWorker.media_url.is_not(None),
                    VoiceWorker.active_calls < VoiceWorker.capacity)
             .order_by(VoiceWorker.active_calls, VoiceWorker.last_heartbeat_at.desc()))
    return list(session.exec(query).all())


def sidecars_for_call(session: Session, *, campaign_id: int,
                      settings: Settings | None = None) -> list[tuple[str, str]]:
    """``(worker id, media URL)`` of the sidecars to try for a new browser call, best first;
    ``ServiceUnavailable`` when none is running with room."""
    workers = [(w.id, w.media_url) for w in live_sidecars(session, settings=settings)]
    if not workers:
        log.warning("a browser call for campaign %s found no live voice sidecar with a media URL: start "
                    "`python -m agent` (make run does) and check its heartbeat in /api/health", campaign_id)
        raise ServiceUnavailable(UNAVAILABLE)
    return workers


def sidecar_of_call(session: Session, worker_id: str) -> list[tuple[str, str]]:
    """The sidecar running a call, as ``sidecars_for_call`` gives them; a sidecar that is gone took its calls
    with it."""
    worker = session.get(VoiceWorker, worker_id)
    if worker is None or not worker.media_url:
        raise NotFound("This call has already ended. Go back and press Call again to start a new one.")
    return [(worker.id, worker.media_url)]


def open_browser_call(session: Session, *, campaign_id: int, sdp: str, setup: CallSetup) -> BrowserCallAnswer:
    """Start a call on a live sidecar from the browser's offer and return the sidecar's answer.

    Raises the sidecar's own error for a call it refuses (unknown campaign, no published flow, a bad offer), and
    ``ServiceUnavailable`` when no sidecar is running, reachable and free."""
    settings = get_settings()
    workers = sidecars_for_call(session, campaign_id=campaign_id, settings=settings)
    body = {"campaign_id": campaign_id, "sdp": sdp, "type": "offer", "setup": setup_as_json(setup)}
    with httpx.Client(timeout=OPEN_TIMEOUT, headers={SIGNALLING_HEADER: signalling_key(settings)}) as client:
        for worker_id, media_url in workers:
            answer = _post_offer(client, worker_id, media_url, body)
            if answer is not None:
                return BrowserCallAnswer(sdp=answer["sdp"], type=answer["type"], call_id=answer["call_id"],
                                         conversation_id=int(answer["conversation_id"]), worker_id=worker_id)
    log.error("no voice sidecar took a browser call for campaign %s (tried %s): see their logs", campaign_id,
              ", ".join(w for w, _ in workers))
    raise ServiceUnavailable(UNAVAILABLE)


def _post_offer(client: httpx.Client, worker_id: str, media_url: str, body: dict,
                path: str = "/calls") -> dict | None:
    """The sidecar's answer; ``None`` when this sidecar cannot take the call now (the next one is tried)."""
    try:
        response = client.post(f"{media_url.rstrip('/')}{path}", json=body)
    except httpx.HTTPError as exc:
        log.warning("voice sidecar %s at %s is unreachable (%s); trying the next one", worker_id, media_url,
                    exc.__class__.__name__)
        return None
    if response.status_code == 200:
        try:
            answer = response.json()
            if {"sdp", "type", "call_id", "conversation_id"} <= answer.keys():
                return answer
        except (ValueError, AttributeError):
            pass
        log.error("voice sidecar %s answered a browser call with something that is not an answer; is %s the "
                  "sidecar's media server?", worker_id, media_url)
        return None
    if response.status_code == 401:
        _log_wrong_key(worker_id)
        return None
    _raise_refusal(worker_id, response.status_code, _error_of(response))
    return None


def sidecars_for_resume(session: Session, *, conversation_id: int, worker_id: str | None,
                        settings: Settings | None = None) -> list[tuple[str, str]]:
    """``(worker id, media URL)`` of the sidecars to try for resuming a call whose media was lost, best first — once
    the call's own sidecar (``worker_id``) is gone, unreachable, or no longer runs it (it restarted). It is asked
    even when its heartbeat is stale (a sidecar that cannot write its heartbeat may still run calls), so a call never
    runs on two sidecars. ``Conflict`` while that sidecar still runs the call; ``ServiceUnavailable`` when no sidecar
    is running, reachable and free."""
    settings = settings or get_settings()
    workers = [(w.id, w.media_url) for w in live_sidecars(session, settings=settings)]
    own = session.get(VoiceWorker, worker_id) if worker_id else None
    if own is not None and own.media_url:
        runs_it = _runs_call(own.id, own.media_url, conversation_id, settings)
        if runs_it:
            raise Conflict(STILL_CONNECTED, code="call_still_connected")
        if runs_it is None:  # its heartbeat may not have gone stale yet, but it is the sidecar that was lost
            workers = [w for w in workers if w[0] != own.id]
    if not workers:
        log.warning("conversation %s could not be resumed: no live voice sidecar with a media URL and room (start "
                    "`python -m agent` and check its heartbeat in /api/health)", conversation_id)
        raise ServiceUnavailable(RESUME_UNAVAILABLE, code="resume_unavailable")
    return workers


def _runs_call(worker_id: str, media_url: str, conversation_id: int, settings: Settings) -> bool | None:
    """Does this sidecar run the conversation's call? ``None`` when it cannot be asked (unreachable)."""
    try:
        response = httpx.get(f"{media_url.rstrip('/')}/conversations/{conversation_id}/call",
                             headers={SIGNALLING_HEADER: signalling_key(settings)}, timeout=PROBE_TIMEOUT)
    except httpx.HTTPError as exc:
        log.info("voice sidecar %s at %s is unreachable (%s): resuming conversation %s elsewhere", worker_id,
                 media_url, exc.__class__.__name__, conversation_id)
        return None
    if response.status_code == 401:
        _log_wrong_key(worker_id)
        return None
    if response.status_code not in (200, 404):
        return None
    return response.status_code == 200


def resume_browser_call(sidecars: list[tuple[str, str]], *, campaign_id: int, conversation_id: int,
                        sdp: str) -> BrowserCallAnswer:
    """Carry on a call whose sidecar was lost on the first of ``sidecars`` that takes it (``sidecars_for_resume``),
    from the browser's new WebRTC offer; returns that sidecar's answer. Raises the sidecar's own error for a call
    it refuses (it has ended meanwhile, a bad offer) and ``ServiceUnavailable`` when none takes it."""
    settings = get_settings()
    body = {"conversation_id": conversation_id, "campaign_id": campaign_id, "sdp": sdp, "type": "offer"}
    with httpx.Client(timeout=OPEN_TIMEOUT, headers={SIGNALLING_HEADER: signalling_key(settings)}) as client:
        for worker_id, media_url in sidecars:
            answer = _post_offer(client, worker_id, media_url, body, path="/calls/resume")
            if answer is not None:
                log.info("conversation %s resumed on voice sidecar %s", conversation_id, worker_id)
                return BrowserCallAnswer(sdp=answer["sdp"], type=answer["type"], call_id=answer["call_id"],
                                         conversation_id=int(answer["conversation_id"]), worker_id=worker_id)
    log.error("no voice sidecar resumed conversation %s (tried %s): see their logs", conversation_id,
              ", ".join(w for w, _ in sidecars))
    raise ServiceUnavailable(RESUME_UNAVAILABLE, code="resume_unavailable")


def _log_wrong_key(worker_id: str) -> None:
    log.error("voice sidecar %s refused the app's signalling key: the app and the sidecar must share SECRET_KEY "
              "(or the data dir it is kept in)", worker_id)


def _raise_refusal(worker_id: str, status: int, error: dict[str, Any]) -> None:
    """A sidecar's refusal: its 4xx as the app's own error (its message says what to do); anything else (at
    capacity, stopping) is logged and the next sidecar is tried."""
    if status in _ERRORS_BY_STATUS:
        raise _ERRORS_BY_STATUS[status](error.get("message") or UNAVAILABLE, code=error.get("code"),
                                        field=error.get("field"))
    log.warning("voice sidecar %s could not take a browser call (%s: %s); trying the next one", worker_id, status,
                error.get("message"))


def hang_up_browser_call(session: Session, *, worker_id: str, call_id: str) -> None:
    """End a browser call on the sidecar running it. A call that is already over (or whose sidecar is gone, which
    closes its calls) needs nothing."""
    worker = session.get(VoiceWorker, worker_id)
    if worker is None or not worker.media_url:
        return
    try:
        response = httpx.post(f"{worker.media_url.rstrip('/')}/calls/{call_id}/hangup", json={},
                              headers={SIGNALLING_HEADER: signalling_key()}, timeout=HANG_UP_TIMEOUT)
    except httpx.HTTPError as exc:
        log.warning("could not reach voice sidecar %s to end call %s (%s)", worker_id, call_id,
                    exc.__class__.__name__)
        raise ServiceUnavailable("The call could not be ended from here right now; closing the call page ends "
                                 "it.") from None
    if response.status_code in (200, 404):  # 404: it ended already
        return
    log.error("voice sidecar %s would not end call %s (%s: %s)", worker_id, call_id, response.status_code,
              _error_of(response).get("message"))
    raise ServiceUnavailable("The call could not be ended from here right now; closing the call page ends it.")


def _error_of(response: httpx.Response) -> dict[str, Any]:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


# ---------------------------------------------------------------- the WebSocket fallback


@dataclass
class SidecarSocket:
    """A browser call's open WebSocket to the sidecar running it (``agent/transports/pcm_socket.py``), or a human
    agent's in that call (``agent/transports/agent_socket.py``; no ``call_id``): PCM as bytes, events as text, both
    ways."""

    worker_id: str
    call_id: str | None
    conversation_id: int
    _http: aiohttp.ClientSession
    _ws: aiohttp.ClientWebSocketResponse

    async def send(self, data: bytes | str) -> None:
        await (self._ws.send_bytes(data) if isinstance(data, bytes) else self._ws.send_str(data))

    async def receive(self) -> bytes | str | None:
        """The sidecar's next message; ``None`` once the socket is closed."""
        message = await self._ws.receive()
        if message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
            return message.data
        return None

    async def close(self) -> None:
        try:
            await self._ws.close()
        finally:
            await self._http.close()


async def open_sidecar_socket(sidecars: list[tuple[str, str]], *, campaign_id: int | None = None,
                              setup: CallSetup | None = None, call_id: str | None = None,
                              resume: int | None = None) -> SidecarSocket:
    """Open a browser call's socket on the first of ``sidecars`` that takes it: a new call (``campaign_id`` and
    ``setup``), the WebRTC call ``call_id`` that never connected, moved onto the socket, or the conversation
    ``resume`` (of ``campaign_id``) whose sidecar was lost. Raises the sidecar's own error for a call it refuses,
    and ``ServiceUnavailable`` when none takes it."""
    if resume is not None:
        start = {"type": "resume", "conversation_id": resume, "campaign_id": campaign_id}
    elif call_id is not None:
        start = {"type": "take_over", "call_id": call_id}
    else:
        start = {"type": "start", "campaign_id": campaign_id, "setup": setup_as_json(setup or CallSetup())}
    key = signalling_key()
    for worker_id, media_url in sidecars:
        opened = await _open_socket(worker_id, media_url, start, key)
        if opened is not None:
            return opened
    log.error("no voice sidecar took a browser socket call (tried %s): see their logs",
              ", ".join(w for w, _ in sidecars))
    if resume is not None:
        raise ServiceUnavailable(RESUME_UNAVAILABLE, code="resume_unavailable")
    raise ServiceUnavailable(UNAVAILABLE)


async def open_agent_socket(sidecar: tuple[str, str], *, conversation_id: int, handoff_id: int,
                            agent_name: str) -> SidecarSocket:
    """Join a human agent to the call of ``conversation_id`` on ``sidecar`` (``(worker id, media URL)``, the one
    running it: ``sidecar_of_call``). Raises the sidecar's own error for a join it refuses (404 ``call_not_here``,
    409 ``agent_already_joined``), and ``ServiceUnavailable`` when it cannot be reached."""
    worker_id, media_url = sidecar
    join = {"type": "join", "conversation_id": conversation_id, "handoff_id": handoff_id, "agent_name": agent_name}
    opened = await _open_socket(worker_id, media_url, join, signalling_key(), path="/calls/agent-socket",
                                answer_type="joined")
    if opened is None:
        raise ServiceUnavailable(AGENT_AUDIO_UNAVAILABLE, code="sidecar_unavailable")
    return opened


async def _open_socket(worker_id: str, media_url: str, start: dict[str, Any], key: str, *,
                       path: str = "/calls/socket", answer_type: str = "started") -> SidecarSocket | None:
    """The sidecar's socket once it answered ``answer_type`` ("started" for a caller's, "joined" for an agent's);
    ``None`` when this sidecar cannot take the call now."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=SOCKET_CONNECT_TIMEOUT_SECONDS)
    http = aiohttp.ClientSession(headers={SIGNALLING_HEADER: key}, timeout=timeout)
    try:
        ws = await http.ws_connect(f"{media_url.rstrip('/')}{path}", max_msg_size=MAX_SOCKET_MESSAGE_BYTES)
        await ws.send_json(start)
        first = await ws.receive(timeout=OPEN_TIMEOUT_SECONDS)
    except aiohttp.WSServerHandshakeError as exc:
        await http.close()
        if exc.status == 401:
            _log_wrong_key(worker_id)
        else:
            log.warning("voice sidecar %s at %s refused the call socket (%s); trying the next one", worker_id,
                        media_url, exc.status)
        return None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        await http.close()
        log.warning("voice sidecar %s at %s is unreachable for a call socket (%s); trying the next one", worker_id,
                    media_url, exc.__class__.__name__)
        return None
    answer = _json_object(first.data) if first.type == aiohttp.WSMsgType.TEXT else {}
    if answer.get("type") == answer_type and answer.get("conversation_id") is not None \
            and (answer_type != "started" or answer.get("call_id")):
        return SidecarSocket(worker_id, answer.get("call_id"), int(answer["conversation_id"]), http, ws)
    await ws.close()
    await http.close()
    if answer.get("type") == "error":
        _raise_refusal(worker_id, answer.get("status") or 503, answer)
    else:
        log.error("voice sidecar %s answered a socket call with something that is not its start; is %s the "
                  "sidecar's media server?", worker_id, media_url)
    return None


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------- the wire form of CallSetup


def setup_as_json(setup: CallSetup) -> dict[str, Any]:
    return dataclasses.asdict(setup)


def setup_from_json(data: Any) -> CallSetup:
    """A ``CallSetup`` from its JSON form: unknown keys are ignored, a value of the wrong type is refused."""
    if data is None:
        return CallSetup()
    if not isinstance(data, dict):
        raise ValidationFailed("The call's setup must be a JSON object of CallSetup fields.", field="setup")
    hints = typing.get_type_hints(CallSetup)
    values = {}
    for field in dataclasses.fields(CallSetup):
        if field.name not in data:
            continue
        value, allowed = data[field.name], _types_of(hints[field.name])
        # bool is an int to Python, but true is not a QR code id
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
            raise ValidationFailed(f"setup.{field.name} must be {names}, not {type(value).__name__}.",
                                   field=f"setup.{field.name}")
        values[field.name] = value
    return CallSetup(**values)


def _types_of(hint: Any) -> tuple[type, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(typing.get_args(hint))
    return (hint,)
