"""The hand-off queue as the agent workspace shows it: each waiting caller with what the agent needs before taking
the call (campaign, lead fields and score, why the AI handed off, how long they have waited, the transcript so far),
most urgent first, then longest waiting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.calls import Conversation, TranscriptTurn
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.handoff import Handoff, HandoffStatus
from quantum_voice.models.leads import Lead
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

OPEN = (HandoffStatus.WAITING.value, HandoffStatus.OFFERED.value)
TRANSCRIPT_TURNS = 20  # the latest turns, enough to see why they asked
TURN_CHARS = 500
MAX_LISTED = 200
_LEAD_FIELDS = ("name", "email", "phone", "company", "interest", "timeline", "budget")


@dataclass(frozen=True)
class HandoffView:
    handoff: Handoff
    campaign_id: int | None
    campaign_name: str | None
    lead: dict[str, Any] | None  # the lead's fields, score and band; None before consent
    waited_seconds: float  # until accepted or ended, else until now
    transcript: list[dict[str, Any]] = field(default_factory=list)  # [{"seq", "speaker", "text"}], oldest first


def waiting(repo: OrgRepository) -> list[HandoffView]:
    """Callers waiting for a person: highest priority first, then the longest waiting."""
    return list_handoffs(repo, HandoffStatus.WAITING.value)


def list_handoffs(repo: OrgRepository, status: str | None = None) -> list[HandoffView]:
    """Hand-offs with their context. ``waiting`` means waiting or offered, in queue order; any other status (or
    none) lists the newest first."""
    repo.scope.require(Permission.WORK_CALLS)
    if status is not None and status not in {s.value for s in HandoffStatus}:
        raise ValidationFailed(f"A hand-off's status is one of {', '.join(s.value for s in HandoffStatus)}.",
                               field="status")
    if status == HandoffStatus.WAITING.value:
        stmt = repo.select(Handoff).where(col(Handoff.status).in_(OPEN)).order_by(
            col(Handoff.priority).desc(), col(Handoff.requested_at), col(Handoff.id))
    else:
        stmt = repo.select(Handoff).where(*([Handoff.status == status] if status else [])).order_by(
            col(Handoff.requested_at).desc(), col(Handoff.id).desc())
    rows = repo.session.exec(stmt.limit(MAX_LISTED)).all()
    return [_view(repo, h, utcnow()) for h in rows]


def view(repo: OrgRepository, handoff: Handoff) -> HandoffView:
    return _view(repo, handoff, utcnow())


def _view(repo: OrgRepository, handoff: Handoff, now: datetime) -> HandoffView:
    conversation = repo.session.get(Conversation, handoff.conversation_id)
    campaign = repo.session.get(Campaign, conversation.campaign_id) if conversation and conversation.campaign_id \
        else None
    lead_id = handoff.lead_id or (conversation.lead_id if conversation else None)
    lead = repo.session.get(Lead, lead_id) if lead_id else None
    if lead is not None and (lead.organization_id != repo.scope.organization_id or lead.erased_at is not None):
        lead = None
    until = handoff.accepted_at or handoff.ended_at or now
    return HandoffView(
        handoff=handoff, campaign_id=campaign.id if campaign else None,
        campaign_name=campaign.name if campaign else None,
        lead=None if lead is None else {"id": lead.id, **{f: getattr(lead, f) for f in _LEAD_FIELDS},
                                        "score": lead.score, "band": lead.band, "status": lead.status},
        waited_seconds=round(max(0.0, (until - handoff.requested_at).total_seconds()), 1),
        transcript=_transcript(repo, handoff.conversation_id))


def _transcript(repo: OrgRepository, conversation_id: int) -> list[dict[str, Any]]:
    turns = repo.session.exec(select(TranscriptTurn).where(
        TranscriptTurn.organization_id == repo.scope.organization_id, TranscriptTurn.conversation_id == conversation_id)
        .order_by(col(TranscriptTurn.seq).desc()).limit(TRANSCRIPT_TURNS)).all()
    return [{"seq": t.seq, "speaker": t.speaker, "text": t.text[:TURN_CHARS]} for t in reversed(turns)]
