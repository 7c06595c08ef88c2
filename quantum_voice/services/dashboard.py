"""What the dashboard shows first: headline counts and the organisation's campaigns."""

from __future__ import annotations

from dataclasses import dataclass

from quantum_voice.models.calls import Conversation
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.leads import Lead, LeadBand
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
        leads=repo.count(Lead),
        hot_leads=repo.count(Lead, Lead.band == LeadBand.HOT.value),
        campaign_list=[CampaignSummary(c.id, c.name, c.status) for c in campaigns],  # type: ignore[arg-type]
    )
