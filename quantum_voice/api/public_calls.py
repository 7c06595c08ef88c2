"""/api/public: the caller's side of a campaign, with no sign-in — the call page, the web widget and anyone
embedding a call use it. Campaign branding, the email gate (consent ticket), placing a WebRTC call on a voice
sidecar, the WebSocket fallback when WebRTC cannot connect, resuming a call whose sidecar died, hang-up and
caller-side metrics."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, WebSocket
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from quantum_voice.api.deps import DB, client_ip
from quantum_voice.api.schema import errors
from quantum_voice.api.socket_relay import refuse, relay
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import DomainError
from quantum_voice.services import media
from quantum_voice.services.public_calls import call_page, email_gate, placement

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/public", tags=["public calls"])


class CampaignPageOut(BaseModel):
    slug: str
    name: str
    organization: str
    greeting: str
    brand_color: str
    logo_url: str | None
    privacy_wording: str
    policy_version: str
    accepting_calls: bool
    unavailable_reason: str | None
    is_test: bool
    media: str  # embedded: POST /calls (WebRTC) or the socket; livekit: POST /calls/livekit, then join the room
    gate_token: str  # send it with the gate, at least 2 s later (a person reads the page first); valid once


class GateIn(BaseModel):
    email: str = Field(max_length=320)
    consent: bool
    test: str | None = Field(default=None, max_length=200)  # the test-call link's token
    qr: str | None = Field(default=None, max_length=32)  # the QR code scanned, if any
    channel: str = Field(default="web", max_length=20)  # web | widget | qr
    gate_token: str = Field(max_length=2000)  # from GET /api/public/campaigns/{slug}


class GateOut(BaseModel):
    ticket: str
    consent_id: str
    consented_at: datetime
    is_test: bool


class CallIn(BaseModel):
    ticket: str = Field(max_length=2000)
    sdp: str = Field(max_length=100_000)
    type: str = Field(default="offer", pattern="^offer$")


class CallOut(BaseModel):
    sdp: str
    type: str
    call_token: str
    conversation_id: int


class ResumeIn(BaseModel):
    call_token: str = Field(max_length=2000)
    sdp: str = Field(max_length=100_000)
    type: str = Field(default="offer", pattern="^offer$")


class LiveKitJoinIn(BaseModel):
    ticket: str = Field(max_length=2000)


class LiveKitJoinOut(BaseModel):
    url: str
    room: str
    identity: str
    token: str
    call_token: str


class CallTokenIn(BaseModel):
    call_token: str = Field(max_length=2000)


class MetricsIn(CallTokenIn):
    metrics: dict[str, Any] = Field(default_factory=dict, max_length=20)


@router.get("/campaigns/{slug}", response_model=CampaignPageOut, responses=errors(403))
def campaign_page(slug: str, session: DB, test: str | None = None) -> CampaignPageOut:
    page = call_page.campaign_page(session, slug, test_token=test)
    return CampaignPageOut(**page.__dict__, gate_token=email_gate.gate_token(page.slug))


@router.post("/campaigns/{slug}/gate", response_model=GateOut, status_code=201, responses=errors(403, 429))
def open_gate(slug: str, body: GateIn, session: DB, request: Request) -> GateOut:
    ticket = email_gate.open_gate(session, slug, email=body.email, consent=body.consent, ip=client_ip(request),
                                  user_agent=request.headers.get("user-agent"), test_token=body.test,
                                  qr_code=body.qr, channel=body.channel, gate=body.gate_token)
    return GateOut(ticket=ticket.token, consent_id=ticket.consent_id, consented_at=ticket.consented_at,
                   is_test=ticket.is_test)


@router.post("/calls", response_model=CallOut, status_code=201, responses=errors(400, 404, 429))
def place_call(body: CallIn, session: DB, request: Request) -> CallOut:
    placed = placement.place_call(session, body.ticket, sdp=body.sdp, ip=client_ip(request),
                                  user_agent=request.headers.get("user-agent"))
    return CallOut(**placed.__dict__)


@router.post("/calls/resume", response_model=CallOut, status_code=201,
             responses=errors(400, 404, 409, 429))
def resume_call(body: ResumeIn, session: DB, request: Request) -> CallOut:
    """The page's call dropped without ending (its voice sidecar died): carry the same conversation on on another
    live sidecar from the page's new WebRTC offer and its call token. 409 ``call_ended`` once the call has ended,
    409 ``call_still_connected`` while its sidecar still runs it, 503 ``resume_unavailable`` when no sidecar can take
    it (try again within CALL_RESUME_GRACE_SECONDS)."""
    resumed = placement.resume_call(session, body.call_token, sdp=body.sdp, ip=client_ip(request))
    return CallOut(**resumed.__dict__)


@router.post("/calls/livekit", response_model=LiveKitJoinOut, status_code=201, responses=errors(404, 429))
def join_livekit_call(body: LiveKitJoinIn, session: DB, request: Request) -> LiveKitJoinOut:
    joined = placement.join_livekit_call(session, body.ticket, ip=client_ip(request),
                                         user_agent=request.headers.get("user-agent"))
    return LiveKitJoinOut(**joined.__dict__)


@router.post("/calls/hangup", status_code=204)
def hang_up(body: CallTokenIn, session: DB) -> None:
    placement.hang_up(session, body.call_token)


@router.post("/calls/metrics")
def report_metrics(body: MetricsIn, session: DB) -> dict[str, int]:
    return {"kept": placement.report_metrics(session, body.call_token, body.metrics)}


@router.websocket("/calls/socket")
async def socket_call(websocket: WebSocket, ticket: str | None = Query(default=None, max_length=2000),
                      call_token: str | None = Query(default=None, max_length=2000),
                      resume: str | None = Query(default=None, max_length=2000)) -> None:
    """The call page's fallback when WebRTC cannot connect: the call as 16 kHz PCM and JSON events over this
    socket, relayed to a voice sidecar (protocol: agent/transports/pcm_socket.py). Open it with ``?ticket=`` from
    the email gate, ``?call_token=`` of the page's WebRTC call that never connected, or ``?resume=`` with the call
    token of a call that dropped (its sidecar died), carried on on another sidecar. The first message is
    ``{"type": "started", "call_token", "conversation_id"}``, or ``{"type": "error", "status", "code", "message"}``
    and the socket closes (1008: refused, 1011: try again later)."""
    await websocket.accept()
    try:
        call = await run_in_threadpool(_checked_socket_call, ticket, call_token, resume, client_ip(websocket),
                                       websocket.headers.get("user-agent"))
        try:
            sidecar = await media.open_sidecar_socket(call.sidecars, campaign_id=call.campaign_id, setup=call.setup,
                                                      call_id=call.call_id, resume=call.resume)
        except BaseException:
            placement.socket_call_not_opened(call)  # no call placed: the campaign's line gets its count back
            raise
    except DomainError as exc:
        await refuse(websocket, exc.status, exc.code, exc.message)
        return
    except Exception:
        log.exception("a call socket could not be opened")
        await refuse(websocket, 500, "internal_error", "Something went wrong on our side. Please try again.")
        return
    try:
        token = placement.call_token_for(organization_id=call.organization_id, worker_id=sidecar.worker_id,
                                         call_id=sidecar.call_id, conversation_id=sidecar.conversation_id,
                                         campaign_id=call.campaign_id)
        await websocket.send_json({"type": "started", "call_token": token,
                                   "conversation_id": sidecar.conversation_id})
        await relay(websocket, sidecar)
    finally:
        await sidecar.close()


def _checked_socket_call(ticket: str | None, call_token: str | None, resume: str | None, ip: str | None,
                         user_agent: str | None) -> placement.SocketCall:
    with session_scope() as session:  # only for the checks: the call itself may last an hour
        return placement.open_socket_call(session, ticket=ticket, call_token=call_token, resume_token=resume,
                                          ip=ip, user_agent=user_agent)
