"""One call as the per-call page shows it: the transcript with each turn's time from the start of the call, and per
answered turn the latency waterfall the voice sidecar measured (``transcript_turns.meta["metrics"]``, written by
``services/voice_calls.record_turn_metrics``; the timings are defined in ``agent/turn_timer.py``).

A turn's waterfall, from the end of the caller's speech: speech to text (``stt_ms``), the end-of-turn wait
(``endpointing_ms``: the turn detector waiting for the caller to go on), the flow step (``brain_ms``) and the first
byte of the agent's audio (``tts_first_byte_ms``); their sum is the voice-to-voice time (``voice_to_voice_ms``)
up to rounding. A turn without a measurement (simulator and REST calls, the greeting) has no waterfall.

Organisation-scoped (``Permission.VIEW``): another organisation's call is "not found". Test calls are shown too,
marked as such. docs/analytics.md says what is shown and what the sidecar does not record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from quantum_voice.models.billing import UsageRecord
from quantum_voice.models.calls import Conversation, Speaker, TranscriptTurn
from quantum_voice.models.campaigns import Campaign
from quantum_voice.services.analytics.scoping import allowed, in_org
from quantum_voice.services.tenancy import OrgRepository

MAX_TURNS = 2_000  # a call at the longest allowed length (an hour) says far fewer
MAX_USAGE_ROWS = 100
RECENT_CALLS = 10

# The stages of a turn's waterfall, in the order they happen: (metrics key, label)
STAGES = (("stt_ms", "Speech to text"), ("endpointing_ms", "End-of-turn wait"), ("brain_ms", "Flow step"),
          ("tts_first_byte_ms", "First audio byte"))


@dataclass(frozen=True)
class Stage:
    key: str  # stt_ms | endpointing_ms | brain_ms | tts_first_byte_ms
    label: str
    start_ms: float  # from the end of the caller's speech
    ms: float


@dataclass(frozen=True)
class Waterfall:
    """An agent turn's timings from the end of the caller's speech; ``stages`` only those that were measured."""

    stages: list[Stage]
    voice_to_voice_ms: float | None
    caller_audio_ms: float | None  # how long the caller spoke

    @property
    def measured_ms(self) -> float:
        """Where the last measured stage ends."""
        return max((s.start_ms + s.ms for s in self.stages), default=0.0)

    @property
    def total_ms(self) -> float:
        return max(self.voice_to_voice_ms or 0.0, self.measured_ms)


@dataclass(frozen=True)
class CallTurn:
    seq: int
    speaker: str  # caller | agent | human_agent | system
    text: str
    offset_ms: int | None  # from the start of the call; None for turns written before offsets were kept
    duration_ms: int | None  # the caller's speech, when the sidecar measured it
    node_id: str | None
    confidence: float | None  # the speech recogniser's, on caller turns
    interrupted: bool  # agent speech the caller talked over (barge-in)
    heard: str | None  # of an interrupted turn: what the caller heard before cutting in
    unspoken: bool  # interrupted before any of it played
    waterfall: Waterfall | None


@dataclass(frozen=True)
class ProviderUsage:
    service: str  # stt | tts | llm | ...
    provider: str
    model: str | None
    quantity: float
    unit: str


@dataclass(frozen=True)
class CallDetail:
    id: int
    campaign_id: int | None
    campaign_name: str | None
    lead_id: int | None
    channel: str
    status: str
    is_test: bool
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float | None
    end_reason: str | None
    turns: list[CallTurn]
    usage: list[ProviderUsage]

    @property
    def interruptions(self) -> int:
        return sum(1 for t in self.turns if t.interrupted)

    @property
    def measured_turns(self) -> list[CallTurn]:
        return [t for t in self.turns if t.waterfall is not None]


def call_detail(repo: OrgRepository, conversation_id: int) -> CallDetail:
    """The call with its transcript and timings; ``NotFound`` when it is not the organisation's."""
    allowed(repo)
    call = repo.get(Conversation, conversation_id)
    campaign = repo.session.get(Campaign, call.campaign_id) if call.campaign_id else None
    rows = repo.list(TranscriptTurn, TranscriptTurn.conversation_id == call.id, order_by=TranscriptTurn.seq,
                     limit=MAX_TURNS)
    usage = repo.list(UsageRecord, UsageRecord.conversation_id == call.id, order_by=UsageRecord.id,
                      limit=MAX_USAGE_ROWS)
    return CallDetail(
        id=call.id, campaign_id=call.campaign_id,
        campaign_name=campaign.name if campaign and campaign.organization_id == call.organization_id else None,
        lead_id=call.lead_id, channel=call.channel, status=call.status, is_test=call.is_test,
        started_at=call.started_at, ended_at=call.ended_at, duration_seconds=call.duration_seconds,
        end_reason=call.end_reason, turns=[call_turn(row) for row in rows],
        usage=[ProviderUsage(u.service, u.provider, u.model, u.quantity, u.unit) for u in usage])


def call_turn(row: TranscriptTurn) -> CallTurn:
    meta = row.meta or {}
    return CallTurn(seq=row.seq, speaker=row.speaker, text=row.text, offset_ms=row.offset_ms,
                    duration_ms=row.duration_ms, node_id=row.node_id, confidence=row.confidence,
                    interrupted=bool(row.interrupted), heard=meta.get("heard") if row.interrupted else None,
                    unspoken=bool(meta.get("unspoken")),
                    waterfall=waterfall(meta.get("metrics")) if row.speaker == Speaker.AGENT.value else None)


def waterfall(metrics: Any) -> Waterfall | None:
    """The stages laid end to end from the end of the caller's speech; None without any timing. A stage that was
    not measured takes no room (a line the flow did not give has no flow step)."""
    if not isinstance(metrics, dict):
        return None
    stages, at = [], 0.0
    for key, label in STAGES:
        ms = _ms(metrics.get(key))
        if ms is None:
            continue
        stages.append(Stage(key, label, at, ms))
        at += ms
    v2v = _ms(metrics.get("voice_to_voice_ms"))
    if not stages and v2v is None:
        return None
    return Waterfall(stages, v2v, _ms(metrics.get("caller_audio_ms")))


def _ms(value: Any) -> float | None:
    """A recorded duration, or None when missing or not a non-negative number (an older or damaged record)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
        return None
    return float(value)


# ---------------------------------------------------------------- the latest calls, each a link to its page

@dataclass(frozen=True)
class CallSummary:
    id: int
    started_at: datetime
    campaign_name: str | None
    status: str
    is_test: bool
    duration_seconds: float | None
    timed_turns: int
    slowest_ms: float | None  # the call's slowest voice to voice
    average_ms: float | None


def recent_calls(repo: OrgRepository, campaign_id: int | None = None, *,
                 limit: int = RECENT_CALLS) -> list[CallSummary]:
    """The latest calls (of one campaign, or all), test calls too, with their voice-to-voice times: three small
    queries, the last two over the listed calls only."""
    allowed(repo)
    stmt = repo.select(Conversation).order_by(Conversation.started_at.desc(), Conversation.id.desc())
    if campaign_id is not None:
        stmt = stmt.where(Conversation.campaign_id == campaign_id)
    calls = list(repo.session.exec(stmt.limit(max(1, min(int(limit), 100)))).all())
    if not calls:
        return []
    ids = [c.id for c in calls]
    latency = TranscriptTurn.meta["metrics"]["voice_to_voice_ms"].as_float()  # type: ignore[index]
    timed = {row[0]: row[1:] for row in repo.session.exec(
        select(TranscriptTurn.conversation_id, sa.func.count(latency), sa.func.max(latency), sa.func.avg(latency))
        .where(in_org(repo, TranscriptTurn), TranscriptTurn.conversation_id.in_(ids),  # type: ignore[attr-defined]
               TranscriptTurn.speaker == Speaker.AGENT.value, latency.is_not(None))
        .group_by(TranscriptTurn.conversation_id)).all()}
    names = dict(repo.session.exec(select(Campaign.id, Campaign.name).where(
        in_org(repo, Campaign), Campaign.id.in_({c.campaign_id for c in calls if c.campaign_id}))).all())
    return [CallSummary(c.id, c.started_at, names.get(c.campaign_id), c.status, c.is_test, c.duration_seconds,
                        int(timed.get(c.id, (0,))[0]), _float(timed.get(c.id, (0, None))[1]),
                        _float(timed.get(c.id, (0, None, None))[2])) for c in calls]


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)
