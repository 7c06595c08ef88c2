"""What the voice sidecar records about a call, beside what the flow writes.

The sidecar acts for the campaign's organisation with a system scope (no person is signed in): it opens the
call, then after each spoken turn adds the turn's timings to the agent turn's ``meta["metrics"]``, marks a turn the
caller talked over as interrupted (keeping what was heard), and writes per-provider usage for cost tracking.
Plain functions over a ``Session``; the sidecar runs them in worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from quantum_voice.core.errors import NotFound
from quantum_voice.models.accounts import Role
from quantum_voice.models.billing import UsageRecord
from quantum_voice.models.calls import Conversation, Speaker, TranscriptTurn
from quantum_voice.models.campaigns import Campaign
from quantum_voice.services.tenancy import OrgRepository, Scope


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


def conversations_of_worker(session: Session, worker_id: str, statuses: tuple[str, ...]) -> list[Conversation]:
    """Calls a sidecar was serving (after its restart: to resume or close them)."""
    return list(session.exec(select(Conversation).where(Conversation.worker_id == worker_id,
                                                        Conversation.status.in_(statuses))))


def close_orphaned_calls(session: Session, live_workers: set[str], *, reason: str = "voice_worker_lost") -> list[int]:
    """End the calls whose sidecar is gone (restarted or dead): the caller's audio went with it, so the call is
    closed cleanly through its flow (lead finalised, end reason recorded) instead of staying "active" forever.
    ``live_workers`` are the ids of sidecars with a fresh heartbeat. Returns the closed conversation ids."""
    from quantum_voice.models.calls import ConversationStatus
    from quantum_voice.services import conversations

    open_states = (ConversationStatus.RINGING.value, ConversationStatus.ACTIVE.value)
    stmt = select(Conversation.id, Conversation.organization_id, Conversation.worker_id).where(
        Conversation.status.in_(open_states), Conversation.worker_id.is_not(None))
    closed = []
    for conversation_id, organization_id, worker_id in session.exec(stmt).all():
        if worker_id in live_workers:
            continue
        conversations.end_conversation(system_repo(session, organization_id), conversation_id, reason)
        closed.append(conversation_id)
    session.flush()
    return closed
