"""/api/campaigns: create a campaign from a flow template, list and read campaigns."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from quantum_voice.api.deps import Repo, client_ip
from quantum_voice.services import campaigns
from quantum_voice.services.flows.templates import DEFAULT_TEMPLATE

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])


class CampaignIn(BaseModel):
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    knowledge_base_id: int | None = None  # empty: a new, empty knowledge base for this campaign
    template: str = Field(default=DEFAULT_TEMPLATE, max_length=60)


class CampaignOut(BaseModel):
    id: int
    name: str
    slug: str
    description: str
    status: str
    knowledge_base_id: int | None
    flow_id: int | None
    template: str | None
    published_version: int | None
    created_at: datetime


def _out(view: campaigns.CampaignView) -> CampaignOut:
    c = view.campaign
    return CampaignOut(id=c.id, name=c.name, slug=c.slug, description=c.description, status=c.status,
                       knowledge_base_id=c.knowledge_base_id, flow_id=c.flow_id, template=view.template_key,
                       published_version=view.published_version, created_at=c.created_at)


@router.post("", status_code=201, response_model=CampaignOut)
def create_campaign(body: CampaignIn, repo: Repo, request: Request) -> CampaignOut:
    campaign = campaigns.create_campaign(repo, name=body.name, description=body.description,
                                         knowledge_base_id=body.knowledge_base_id, template=body.template,
                                         ip=client_ip(request))
    return _out(campaigns.get_campaign(repo, campaign.id))


@router.get("", response_model=list[CampaignOut])
def list_campaigns(repo: Repo, limit: int = Query(100, ge=1, le=500),
                   offset: int = Query(0, ge=0)) -> list[CampaignOut]:
    return [_out(view) for view in campaigns.list_campaigns(repo, limit=limit, offset=offset)]


@router.get("/{campaign_id}", response_model=CampaignOut)
def get_campaign(campaign_id: int, repo: Repo) -> CampaignOut:
    return _out(campaigns.get_campaign(repo, campaign_id))
