"""The dashboard's headline numbers and campaign list."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services import dashboard
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

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        try:
            with self._signed_in_repo() as repo:
                summary = dashboard.summary(repo)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.campaign_count, self.call_count = summary.campaigns, summary.calls
        self.lead_count, self.hot_lead_count = summary.leads, summary.hot_leads
        self.campaigns = [CampaignRow(c.name, c.status) for c in summary.campaign_list]
        self.loaded = True
        return None
