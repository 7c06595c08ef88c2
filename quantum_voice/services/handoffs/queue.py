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


def _view(repo: OrgRepository, handoff: Handoff, now: datetime, *, transcript: bool = True) -> HandoffView:
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
        transcript=_transcript(repo, handoff.conversation_id) if transcript else [])


def _transcript(repo: OrgRepository, conversation_id: int) -> list[dict[str, Any]]:
    turns = repo.session.exec(select(TranscriptTurn).where(
        TranscriptTurn.organization_id == repo.scope.organization_id, TranscriptTurn.conversation_id == conversation_id)
        .order_by(col(TranscriptTurn.seq).desc()).limit(TRANSCRIPT_TURNS)).all()
    return [{"seq": t.seq, "speaker": t.speaker, "text": t.text[:TURN_CHARS]} for t in reversed(turns)]


# ---------------------------------------------------------------- the agent's own calls (the workspace)

LIVE_TRANSCRIPT_TURNS = 500  # a call panel shows the whole call; this bounds one look


@dataclass(frozen=True)
class AgentCall:
    """One of the signed-in agent's hand-offs, as "My calls today" lists it."""
    handoff: Handoff
    campaign_name: str | None
    lead_name: str | None  # the lead's name, else its email; None without a (kept) lead
    talk_seconds: float  # from accepted to ended, or to now while the call goes on


def my_accepted(repo: OrgRepository) -> list[HandoffView]:
    """The signed-in agent's ongoing calls (accepted hand-offs), the earliest taken first."""
    repo.scope.require(Permission.WORK_CALLS)
    rows = repo.session.exec(repo.select(Handoff).where(
        Handoff.status == HandoffStatus.ACCEPTED.value, Handoff.assigned_user_id == repo.scope.user_id)
        .order_by(col(Handoff.accepted_at), col(Handoff.id)).limit(MAX_LISTED)).all()
    now = utcnow()
    return [_view(repo, h, now) for h in rows]


def my_calls_today(repo: OrgRepository, *, now: datetime | None = None) -> list[AgentCall]:
    """The hand-offs the signed-in agent took since midnight UTC (ongoing or ended), the latest first."""
    repo.scope.require(Permission.WORK_CALLS)
    now = now or utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = repo.session.exec(repo.select(Handoff).where(
        Handoff.assigned_user_id == repo.scope.user_id, col(Handoff.accepted_at) >= midnight)
        .order_by(col(Handoff.accepted_at).desc(), col(Handoff.id).desc()).limit(MAX_LISTED)).all()
    calls = []
    for handoff in rows:
        context = _view(repo, handoff, now, transcript=False)  # the list shows no turns: not read
        lead = context.lead or {}
        until = handoff.ended_at or now
        calls.append(AgentCall(handoff=handoff, campaign_name=context.campaign_name,
                               lead_name=lead.get("name") or lead.get("email"),
                               talk_seconds=round(max(0.0, (until - handoff.accepted_at).total_seconds()), 1)))
    return calls


def call_transcript(repo: OrgRepository, handoff_id: int, *, after_seq: int = -1) -> list[dict[str, Any]]:
    """The turns of a hand-off's call after ``after_seq`` (all of them by default), oldest first, for the agent
    following it live: ``[{"seq", "speaker", "text"}]``. Another organisation's hand-off is not found."""
    repo.scope.require(Permission.WORK_CALLS)
    handoff = repo.get(Handoff, handoff_id)
    turns = repo.session.exec(select(TranscriptTurn).where(
        TranscriptTurn.organization_id == repo.scope.organization_id,
        TranscriptTurn.conversation_id == handoff.conversation_id, TranscriptTurn.seq > after_seq)
        .order_by(col(TranscriptTurn.seq)).limit(LIVE_TRANSCRIPT_TURNS)).all()
    return [{"seq": t.seq, "speaker": t.speaker, "text": t.text} for t in turns]

