"""What the voice sidecar records about a call, beside what the flow writes.

The sidecar acts for the campaign's organisation with a system scope (no person is signed in): it opens the
call (or resumes one whose sidecar was lost), then after each spoken turn adds the turn's timings to the agent
turn's ``meta["metrics"]``, marks a turn the caller talked over as interrupted (keeping what was heard), and writes
per-provider usage for cost tracking.
Calls whose sidecar is gone stay open for CALL_RESUME_GRACE_SECONDS, then ``close_lost_calls`` ends them.
Plain functions over a ``Session``; the sidecar runs them in worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.errors import Conflict, NotFound
from quantum_voice.models.accounts import Role
from quantum_voice.models.billing import UsageRecord
from quantum_voice.models.calls import Conversation, Speaker, TranscriptTurn
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.system import VoiceWorker
from quantum_voice.services import conversations
from quantum_voice.services.conversations import CALL_ENDED, OPEN_STATUSES
from quantum_voice.services.tenancy import OrgRepository, Scope

RESTARTED = " (restarted)"  # marks the calls a sidecar's predecessor under the same id left open


def system_repo(session: Session, organization_id: int) -> OrgRepository:
    """The sidecar's view of one organisation: agent rights (works calls), never owner rights."""
    return OrgRepository(session, Scope(user_id=None, organization_id=organization_id, role=Role.AGENT.value,
                                        via="system"))


def organization_of_campaign(session: Session, campaign_id: int) -> int:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign with id {campaign_id}. Check the campaign id the call was placed for.")
    return campaign.organization_id


def max_call_seconds_of_campaign(session: Session, campaign_id: int) -> float | None:
    campaign = session.get(Campaign, campaign_id)
    return float(campaign.max_call_seconds) if campaign is not None and campaign.max_call_seconds else None


def vocabulary_of_campaign(session: Session, campaign_id: int) -> list[str]:
    """Proper names callers will say on this campaign's calls, for the speech recogniser's prompt."""
    from quantum_voice.models.accounts import Organization

    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return []
    organization = session.get(Organization, campaign.organization_id)
    names = [organization.name if organization else "", campaign.name]
    return [n for n in dict.fromkeys(n.strip() for n in names) if n]


@dataclass
class TurnMetrics:
    """One agent turn as the caller experienced it (milliseconds; None where it does not apply)."""

    stt_ms: float | None = None
    brain_ms: float | None = None
    tts_first_byte_ms: float | None = None
    voice_to_voice_ms: float | None = None
    endpointing_ms: float | None = None
    caller_audio_ms: float | None = None
    interrupted: bool = False

    def as_json(self) -> dict[str, Any]:
        return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in self.__dict__.items() if v is not None}


def last_turn(repo: OrgRepository, conversation_id: int, speaker: Speaker) -> TranscriptTurn | None:
    stmt = (repo.select(TranscriptTurn)
            .where(TranscriptTurn.conversation_id == conversation_id, TranscriptTurn.speaker == speaker.value)
            .order_by(TranscriptTurn.seq.desc()).limit(1))
    return repo.session.exec(stmt).first()


def agent_turn(repo: OrgRepository, conversation_id: int, seq: int | None) -> TranscriptTurn | None:
    """The agent turn saved at ``seq`` (the latest agent turn when ``seq`` is None)."""
    if seq is None:
        return last_turn(repo, conversation_id, Speaker.AGENT)
    return repo.session.exec(repo.select(TranscriptTurn).where(
        TranscriptTurn.conversation_id == conversation_id, TranscriptTurn.seq == seq,
        TranscriptTurn.speaker == Speaker.AGENT.value)).first()


def record_turn_metrics(repo: OrgRepository, conversation_id: int, metrics: TurnMetrics, *,
                        seq: int | None = None) -> None:
    """Attach timings to the agent turn (at ``seq``, else the latest); the caller's audio length goes on the
    caller turn just before it."""
    agent = agent_turn(repo, conversation_id, seq)
    if agent is None:
        return
    agent.meta = {**(agent.meta or {}), "metrics": metrics.as_json()}
    repo.session.add(agent)
    caller = repo.session.exec(repo.select(TranscriptTurn).where(
        TranscriptTurn.conversation_id == conversation_id, TranscriptTurn.speaker == Speaker.CALLER.value,
        TranscriptTurn.seq < agent.seq).order_by(TranscriptTurn.seq.desc()).limit(1)).first()
    if caller is not None and metrics.caller_audio_ms is not None and caller.duration_ms is None:
        caller.duration_ms = int(metrics.caller_audio_ms)
        repo.session.add(caller)
    repo.session.flush()


def mark_interrupted(repo: OrgRepository, conversation_id: int, heard: str | None, *, seq: int | None = None,
                     unspoken: bool = False) -> None:
    """The caller talked over an agent turn (at ``seq``, else the latest): flag it and keep the part that was
    heard. ``unspoken``: the caller spoke again before any of it played, so nobody heard it at all."""
    agent = agent_turn(repo, conversation_id, seq)
    if agent is None:
        return
    agent.interrupted = True
    meta = {**(agent.meta or {}), "heard": (heard or "").strip() or None}
    if unspoken:
        meta["unspoken"] = True
    agent.meta = meta
    repo.session.add(agent)
    repo.session.flush()


def record_usage(repo: OrgRepository, conversation: Conversation, provider: str, service: str, quantity: float,
                 unit: str, model: str | None = None) -> None:
    if quantity <= 0:
        return
    repo.add(UsageRecord(organization_id=repo.scope.organization_id, conversation_id=conversation.id,
                         campaign_id=conversation.campaign_id, provider=provider, service=service, model=model,
                         quantity=round(float(quantity), 3), unit=unit))


def usage_of(repo: OrgRepository, conversation_id: int) -> list[UsageRecord]:
    return list(repo.session.exec(repo.select(UsageRecord).where(UsageRecord.conversation_id == conversation_id)
                                  .order_by(UsageRecord.id)))


def assign_worker(repo: OrgRepository, conversation_id: int, worker_id: str) -> None:
    conversation = repo.get(Conversation, conversation_id)
    conversation.worker_id = worker_id[:120]
    repo.session.add(conversation)
    repo.session.flush()


def served_by(repo: OrgRepository, conversation_id: int, worker_id: str) -> bool:
    """Whether the conversation is (still) assigned to this sidecar; a missing one counts as its own."""
    conversation = repo.session.exec(repo.select(Conversation).where(Conversation.id == conversation_id)).first()
    return conversation is None or conversation.worker_id in (None, worker_id[:120])


def conversations_of_worker(session: Session, worker_id: str, statuses: tuple[str, ...]) -> list[Conversation]:
    """Calls a sidecar was serving (after its restart: to resume or close them)."""
    return list(session.exec(select(Conversation).where(Conversation.worker_id == worker_id,
                                                        Conversation.status.in_(statuses))))


def resumable_conversation(session: Session, conversation_id: int, campaign_id: int) -> Conversation:
    """The open call of ``campaign_id`` that a sidecar is asked to carry on (its previous sidecar is gone)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.campaign_id != campaign_id:
        raise NotFound(f"No call {conversation_id} for campaign {campaign_id} to resume. Start a new call.")
    if conversation.status not in OPEN_STATUSES:
        raise Conflict(CALL_ENDED, code="call_ended")
    return conversation


def remaining_call_seconds(session: Session, conversation: Conversation, *, at_least: float = 10.0) -> float | None:
    """What is left of the campaign's limit on a call's length for a resumed call (counted from its start), never
    less than ``at_least`` so the caller hears why the call ends; None without a limit."""
    limit = max_call_seconds_of_campaign(session, conversation.campaign_id) if conversation.campaign_id else None
    if limit is None:
        return None
    return max(at_least, limit - (utcnow() - conversation.started_at).total_seconds())


def release_calls_of_worker(session: Session, worker_id: str) -> list[int]:
    """A sidecar restarted under its predecessor's id: the calls that one left open are no longer served by this id
    (their audio went with the old process), so they are marked as lost from it (``"<id> (restarted)"``, an id no
    heartbeat has). They stay open for their grace period, to be resumed, then close as any lost call does."""
    lost_id = worker_id[:120 - len(RESTARTED)] + RESTARTED
    released = []
    for conversation in conversations_of_worker(session, worker_id, OPEN_STATUSES):
        conversation.worker_id = lost_id
        session.add(conversation)
        released.append(conversation.id)
    session.flush()
    return released


def close_lost_calls(session: Session, *, also_gone: set[str] = frozenset(),
                     settings: Settings | None = None) -> list[int]:
    """End the calls whose sidecar has been gone for longer than CALL_RESUME_GRACE_SECONDS (the app's background
    worker runs it every minute; a sidecar at its start). ``also_gone``: ids to count as gone whatever their
    heartbeat says (a sidecar starting under its predecessor's id). Returns the closed conversation ids."""
    settings = settings or get_settings()
    cutoff = utcnow() - timedelta(seconds=settings.sidecar_heartbeat_timeout_seconds)
    live = set(session.exec(select(VoiceWorker.id).where(VoiceWorker.last_heartbeat_at >= cutoff)).all())
    return close_orphaned_calls(session, live - set(also_gone), grace_seconds=settings.call_resume_grace_seconds)


def close_orphaned_calls(session: Session, live_workers: set[str], *, reason: str = "voice_worker_lost",
                         grace_seconds: float = 0) -> list[int]:
    """End the calls whose sidecar is gone (restarted or dead): the caller's audio went with it, so the call is
    closed cleanly through its flow (lead finalised, end reason recorded) instead of staying "active" forever.
    ``live_workers`` are the ids of sidecars with a fresh heartbeat. A call stays open for ``grace_seconds`` after
    its last sign of life (its sidecar's last heartbeat, its last transcript turn, its start), so the caller's page
    can resume it on another sidecar. Returns the closed conversation ids."""
    stmt = select(Conversation.id, Conversation.organization_id, Conversation.worker_id, Conversation.started_at).where(
        Conversation.status.in_(OPEN_STATUSES), Conversation.worker_id.is_not(None))
    lost = [row for row in session.exec(stmt).all() if row[2] not in live_workers]
    if not lost:
        return []
    quiet_since = _last_signs_of_life(session, lost)
    deadline = utcnow() - timedelta(seconds=grace_seconds)
    closed = []
    for conversation_id, organization_id, worker_id, _started in lost:
        if quiet_since[conversation_id] > deadline or not _still_lost(session, conversation_id, worker_id):
            continue
        conversations.end_conversation(system_repo(session, organization_id), conversation_id, reason)
        closed.append(conversation_id)
    session.flush()
    return closed


def _last_signs_of_life(session: Session, lost: list) -> dict[int, datetime]:
    """When each lost call was last known to be alive: the latest of its start, its last transcript turn and its
    sidecar's last heartbeat."""
    ids = [row[0] for row in lost]
    last_turns = dict(session.exec(select(TranscriptTurn.conversation_id, sa.func.max(TranscriptTurn.created_at))
                                   .where(TranscriptTurn.conversation_id.in_(ids))
                                   .group_by(TranscriptTurn.conversation_id)).all())
    beats = dict(session.exec(select(VoiceWorker.id, VoiceWorker.last_heartbeat_at)
                              .where(VoiceWorker.id.in_({row[2] for row in lost}))).all())
    return {conversation_id: max(_aware(t) for t in (started, last_turns.get(conversation_id), beats.get(worker_id))
                                 if t is not None)
            for conversation_id, _org, worker_id, started in lost}


def _still_lost(session: Session, conversation_id: int, worker_id: str) -> bool:
    """Checked again under the row's lock: a sidecar may have resumed the call since it was found lost."""
    row = session.exec(select(Conversation).where(Conversation.id == conversation_id).with_for_update()
                       .execution_options(populate_existing=True)).first()
    return row is not None and row.worker_id == worker_id and row.status in OPEN_STATUSES


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
