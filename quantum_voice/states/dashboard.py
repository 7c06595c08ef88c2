"""The dashboard's headline numbers and campaign list."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services import dashboard
from quantum_voice.services.handoffs.metrics import HandoffMetrics, handoff_metrics
from quantum_voice.states.session import SessionState


@dataclass
class CampaignRow:
    name: str = ""
    status: str = ""


class DashboardState(SessionState):
    loaded: bool = False
    campaign_count: int = 0
    call_count: int = 0
    lead_count: int = 0
    hot_lead_count: int = 0
    campaigns: list[CampaignRow] = []
    # the callers' side of the last 7 days (from the call page)
    connected_calls: int = 0
    connect_time: str = "–"
    round_trip: str = "–"
    calls_with_drops: int = 0
    # hand-offs to people over the last 7 days
    handoffs_requested: int = 0
    handoffs_taken: str = "–"
    handoff_wait: str = "–"
    handoff_talk: str = "–"
    handoff_outcomes: str = ""

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        try:
            with self._signed_in_repo() as repo:
                summary = dashboard.summary(repo)
                connection = dashboard.caller_connection(repo)
                handoffs = handoff_metrics(repo)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.campaign_count, self.call_count = summary.campaigns, summary.calls
        self.lead_count, self.hot_lead_count = summary.leads, summary.hot_leads
        self.campaigns = [CampaignRow(c.name, c.status) for c in summary.campaign_list]
        self.connected_calls, self.calls_with_drops = connection.calls, connection.calls_with_audio_drops
        self.connect_time = _ms(connection.connect_ms_median)
        self.round_trip = _ms(connection.rtt_ms_median)
        self._show_handoffs(handoffs)
        self.loaded = True
        return None


    def _show_handoffs(self, m: HandoffMetrics) -> None:
        self.handoffs_requested = m.requested
        self.handoffs_taken = f"{m.taken} of {m.requested}" if m.requested else "–"
        self.handoff_wait = _seconds(m.wait_seconds_median)
        self.handoff_talk = _seconds(m.talk_seconds_median)
        self.handoff_outcomes = " · ".join(f"{OUTCOMES.get(k, k.replace('_', ' '))}: {n}"
                                           for k, n in sorted(m.dispositions.items()))


OUTCOMES = {"qualified": "Qualified", "not_interested": "Not interested", "callback": "Call back",
            "no_answer": "No answer", "returned_to_ai": "Handed back to the AI"}


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 60:.1f} min" if value >= 90 else f"{value:.0f} s"


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"
