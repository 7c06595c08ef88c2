"""The dashboard's analytics: headline cards and chart series for a range of days and an optional campaign.

Plain functions over an ``OrgRepository`` (role: ``Permission.VIEW``); every query is one aggregate, grouped in the
database and bounded (``MAX_DAYS``, top-N). Test calls and their leads stay out. docs/analytics.md says what each
number means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from quantum_voice.services.analytics.cards import Cards, cards
from quantum_voice.services.analytics.latency import LatencyDay, voice_to_voice
from quantum_voice.services.analytics.period import MAX_DAYS, AnalyticsFilter
from quantum_voice.services.analytics.series import (FunnelStage, UnansweredQuestion, VolumeSeries, call_volume,
                                                     funnel, lead_bands, unanswered_questions)
from quantum_voice.services.tenancy import OrgRepository

__all__ = ["MAX_DAYS", "AnalyticsFilter", "Cards", "DashboardAnalytics", "FunnelStage", "LatencyDay",
           "UnansweredQuestion", "VolumeSeries", "cards", "call_volume", "dashboard_analytics", "funnel",
           "lead_bands", "unanswered_questions", "voice_to_voice"]


@dataclass(frozen=True)
class DashboardAnalytics:
    filter: AnalyticsFilter
    cards: Cards
    days: list[date]
    volume: list[VolumeSeries]
    funnel: list[FunnelStage]
    lead_bands: dict[str, int]
    unanswered: list[UnansweredQuestion]
    latency: list[LatencyDay]


def dashboard_analytics(repo: OrgRepository, f: AnalyticsFilter) -> DashboardAnalytics:
    days, volume = call_volume(repo, f)
    return DashboardAnalytics(filter=f, cards=cards(repo, f), days=days, volume=volume, funnel=funnel(repo, f),
                              lead_bands=lead_bands(repo, f), unanswered=unanswered_questions(repo, f),
                              latency=voice_to_voice(repo, f))
