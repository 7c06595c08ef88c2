"""How hand-offs to people went over the last days, for the dashboard: how many callers asked, how many a person
took, how long callers waited for them, how long the people talked, and how the calls ended. Real calls only (test
calls never reach the queue)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from quantum_voice.core.clock import utcnow
from quantum_voice.models.handoff import Handoff, HandoffStatus
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

MAX_ROWS = 50_000


@dataclass(frozen=True)
class HandoffMetrics:
    days: int
    requested: int
    taken: int  # accepted by a person (on the call now, or ended)
    missed: int  # no one available, no one answered, or the caller left while waiting
    wait_seconds_median: float | None  # from the request to a person accepting
    talk_seconds_median: float | None  # from accepting to handing back or ending
    dispositions: dict[str, int] = field(default_factory=dict)


def handoff_metrics(repo: OrgRepository, days: int = 7) -> HandoffMetrics:
    repo.scope.require(Permission.VIEW)
    rows = repo.list(Handoff, Handoff.requested_at >= utcnow() - timedelta(days=days), limit=MAX_ROWS)
    taken = [h for h in rows if h.accepted_at is not None]
    waits = [(h.accepted_at - h.requested_at).total_seconds() for h in taken]
    talks = [(h.ended_at - h.accepted_at).total_seconds() for h in taken if h.ended_at is not None]
    return HandoffMetrics(
        days=days, requested=len(rows), taken=len(taken),
        missed=sum(1 for h in rows if h.status == HandoffStatus.ABANDONED.value),
        wait_seconds_median=_median(waits), talk_seconds_median=_median(talks),
        dispositions=dict(Counter(h.disposition for h in taken if h.disposition)))


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None
