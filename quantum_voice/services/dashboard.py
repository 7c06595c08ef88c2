"""What the dashboard shows first: headline counts, the organisation's campaigns, and how calls connect from the
callers' side (what the call page reports)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import timedelta

from quantum_voice.core.clock import utcnow
from quantum_voice.models.calls import Conversation
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.leads import Lead, LeadBand
from quantum_voice.models.system import SystemMetric
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository


@dataclass(frozen=True)
class CampaignSummary:
    id: int
    name: str
    status: str


@dataclass(frozen=True)
class DashboardSummary:
    campaigns: int
    calls: int  # real calls only: test calls stay out of analytics
    leads: int
    hot_leads: int
    campaign_list: list[CampaignSummary]


def summary(repo: OrgRepository, campaign_limit: int = 20) -> DashboardSummary:
    repo.scope.require(Permission.VIEW)
    live = Campaign.deleted_at.is_(None)  # type: ignore[union-attr]
    campaigns = repo.list(Campaign, live, order_by=Campaign.id, limit=campaign_limit)
    return DashboardSummary(
        campaigns=repo.count(Campaign, live),
        calls=repo.count(Conversation, Conversation.is_test.is_(False)),  # type: ignore[attr-defined]
        leads=repo.count(Lead, Lead.is_test.is_(False)),  # type: ignore[attr-defined]
        hot_leads=repo.count(Lead, Lead.band == LeadBand.HOT.value, Lead.is_test.is_(False)),  # type: ignore
        campaign_list=[CampaignSummary(c.id, c.name, c.status) for c in campaigns],  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class CallerConnection:
    """Real calls of the last ``days`` days as callers' browsers measured them (None: nothing reported)."""

    days: int
    calls: int
    connect_ms_median: float | None
    rtt_ms_median: float | None
    calls_with_audio_drops: int


def caller_connection(repo: OrgRepository, days: int = 7) -> CallerConnection:
    repo.scope.require(Permission.VIEW)
    rows = repo.list(SystemMetric, SystemMetric.source == "call-page",
                     SystemMetric.recorded_at >= utcnow() - timedelta(days=days), limit=50_000)
    by_call: dict[object, dict[str, float]] = {}
    for row in rows:
        labels = row.labels or {}
        if labels.get("test"):
            continue  # test calls stay out of analytics
        by_call.setdefault(labels.get("conversation_id") or row.id, {})[row.name] = row.value

    def median(name: str) -> float | None:
        values = [m[name] for m in by_call.values() if name in m]
        return round(statistics.median(values), 1) if values else None

    return CallerConnection(days=days, calls=len(by_call), connect_ms_median=median("caller_connect_ms"),
                            rtt_ms_median=median("caller_rtt_ms"),
                            calls_with_audio_drops=sum(1 for m in by_call.values() if m.get("caller_audio_drops")))


def campaign_choices(repo: OrgRepository, limit: int = 200) -> list[CampaignSummary]:
    """The campaigns the dashboard can be filtered by (not deleted), by name."""
    repo.scope.require(Permission.VIEW)
    rows = repo.list(Campaign, Campaign.deleted_at.is_(None), order_by=Campaign.name, limit=limit)  # type: ignore
    return [CampaignSummary(c.id, c.name, c.status) for c in rows]  # type: ignore[arg-type]
