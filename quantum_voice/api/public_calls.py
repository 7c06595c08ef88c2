"""/api/public: the caller's side of a campaign, with no sign-in — the call page, the web widget and anyone
embedding a call use it. Campaign branding, the email gate (consent ticket), placing a WebRTC call on a voice
sidecar, hang-up and caller-side metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from quantum_voice.api.deps import DB, client_ip
from quantum_voice.services import public_calls

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


class GateIn(BaseModel):
    email: str = Field(max_length=320)
    consent: bool
    test: str | None = Field(default=None, max_length=200)  # the test-call link's token
    qr: str | None = Field(default=None, max_length=32)  # the QR code scanned, if any
    channel: str = Field(default="web", max_length=20)  # web | widget | qr


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


class CallTokenIn(BaseModel):
    call_token: str = Field(max_length=2000)


class MetricsIn(CallTokenIn):
    metrics: dict[str, Any] = Field(default_factory=dict, max_length=20)


@router.get("/campaigns/{slug}", response_model=CampaignPageOut)
def campaign_page(slug: str, session: DB, test: str | None = None) -> CampaignPageOut:
    return CampaignPageOut(**public_calls.campaign_page(session, slug, test_token=test).__dict__)


@router.post("/campaigns/{slug}/gate", response_model=GateOut, status_code=201)
def open_gate(slug: str, body: GateIn, session: DB, request: Request) -> GateOut:
    ticket = public_calls.open_gate(session, slug, email=body.email, consent=body.consent, ip=client_ip(request),
                                    user_agent=request.headers.get("user-agent"), test_token=body.test,
                                    qr_code=body.qr, channel=body.channel)
    return GateOut(ticket=ticket.token, consent_id=ticket.consent_id, consented_at=ticket.consented_at,
                   is_test=ticket.is_test)


@router.post("/calls", response_model=CallOut, status_code=201)
def place_call(body: CallIn, session: DB, request: Request) -> CallOut:
    placed = public_calls.place_call(session, body.ticket, sdp=body.sdp, ip=client_ip(request),
                                     user_agent=request.headers.get("user-agent"))
    return CallOut(**placed.__dict__)


@router.post("/calls/hangup", status_code=204)
def hang_up(body: CallTokenIn, session: DB) -> None:
    public_calls.hang_up(session, body.call_token)


@router.post("/calls/metrics")
def report_metrics(body: MetricsIn, session: DB) -> dict[str, int]:
    return {"kept": public_calls.report_metrics(session, body.call_token, body.metrics)}
