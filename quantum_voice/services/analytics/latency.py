"""Voice-to-voice latency per day: from the end of the caller's speech to the first byte of the agent's answer, as
the voice sidecar records it on each agent turn (``transcript_turns.meta["metrics"]["voice_to_voice_ms"]``,
services/voice_calls.py). Percentiles are not portable SQL, so the database returns a histogram per day in
``BUCKET_MS`` steps and the percentiles are read off it: exact to the nearest ``BUCKET_MS``.

A year of turns is too many to read on every refresh (about a second at 100,000 calls, bench/dashboard.py), and a
day's figures stop changing once its calls have ended: days before ``SETTLED_DAYS`` ago are read once per range and
kept in the cache for ``CACHE_SECONDS``; the latest days are read on every refresh."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import select

from quantum_voice.core.cache import get_cache
from quantum_voice.core.clock import utcnow
from quantum_voice.models.calls import Conversation, Speaker, TranscriptTurn
from quantum_voice.services.analytics.period import AnalyticsFilter
from quantum_voice.services.analytics.scoping import allowed, as_day, day_of, in_org, real_calls
from quantum_voice.services.tenancy import OrgRepository

log = logging.getLogger(__name__)

BUCKET_MS = 10
SETTLED_DAYS = 2  # today's and yesterday's calls may still be going on or be written up; older days are final
CACHE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class LatencyDay:
    day: date
    turns: int
    p50_ms: float
    p95_ms: float


def voice_to_voice(repo: OrgRepository, f: AnalyticsFilter, *, today: date | None = None) -> list[LatencyDay]:
    """p50 and p95 per day of the range (by the day the call started); days without measured turns are left out."""
    allowed(repo)
    last_settled = min(f.last_day, (today or utcnow().date()) - timedelta(days=SETTLED_DAYS))
    found: list[LatencyDay] = []
    if last_settled >= f.first_day:
        found += _settled(repo, AnalyticsFilter(f.first_day, last_settled, f.campaign_id))
    if f.last_day > last_settled:
        found += _measure(repo, AnalyticsFilter(max(f.first_day, last_settled + timedelta(days=1)), f.last_day,
                                                f.campaign_id))
    return found


def _settled(repo: OrgRepository, f: AnalyticsFilter) -> list[LatencyDay]:
    """Days that no longer change, from the cache when they were read before (a cache that fails is skipped)."""
    key = (f"analytics:v2v:{repo.scope.organization_id}:{f.campaign_id or 'all'}:"
           f"{f.first_day.isoformat()}:{f.last_day.isoformat()}")
    cache = get_cache()
    try:
        hit = cache.get(key)
    except Exception:
        log.warning("the cache could not be read; latency is read from the database", exc_info=True)
        hit = None
    if hit is not None:
        return [LatencyDay(date.fromisoformat(d), turns, p50, p95) for d, turns, p50, p95 in json.loads(hit)]
    days = _measure(repo, f)
    try:
        cache.set(key, json.dumps([[d.day.isoformat(), d.turns, d.p50_ms, d.p95_ms] for d in days]),
                  ttl_seconds=CACHE_SECONDS)
    except Exception:
        log.warning("the cache could not keep the settled latency days", exc_info=True)
    return days


def _measure(repo: OrgRepository, f: AnalyticsFilter) -> list[LatencyDay]:
    latency = TranscriptTurn.meta["metrics"]["voice_to_voice_ms"].as_float()  # type: ignore[index]
    bucket = sa.func.round(latency / BUCKET_MS)
    day = day_of(Conversation.started_at)
    stmt = (select(day, bucket, sa.func.count()).select_from(TranscriptTurn)
            .join(Conversation, Conversation.id == TranscriptTurn.conversation_id)
            .where(in_org(repo, TranscriptTurn), TranscriptTurn.speaker == Speaker.AGENT.value,
                   *real_calls(repo, f), *f.within(Conversation.started_at), latency.is_not(None))
            .group_by(day, bucket))
    histograms: dict[date, list[tuple[float, int]]] = {}
    for raw_day, step, count in repo.session.exec(stmt).all():
        histograms.setdefault(as_day(raw_day), []).append((float(step) * BUCKET_MS, int(count)))
    return [_percentiles(d, histograms[d]) for d in sorted(histograms)]


def _percentiles(day: date, histogram: list[tuple[float, int]]) -> LatencyDay:
    histogram.sort()
    total = sum(count for _, count in histogram)
    return LatencyDay(day, total, nearest_rank(histogram, total, 0.50), nearest_rank(histogram, total, 0.95))


def nearest_rank(histogram: list[tuple[float, int]], total: int, share: float) -> float:
    """The value at rank ⌈share·total⌉ of a sorted histogram."""
    rank, seen = max(1, math.ceil(share * total)), 0
    for value, count in histogram:
        seen += count
        if seen >= rank:
            return value
    return histogram[-1][0]
