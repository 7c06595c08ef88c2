"""Campaigns: created from a flow template (published at once, so the campaign can take calls), listed."""

from __future__ import annotations

from dataclasses import dataclass
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.accounts import Organization
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.flows import Flow, FlowVersion
from quantum_voice.models.knowledge import KnowledgeBase
from quantum_voice.services import audit
from quantum_voice.services.accounts import check_name, unique_slug
from quantum_voice.services.flows import editing, publishing
from quantum_voice.services.flows.templates import DEFAULT_TEMPLATE, require_template
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

DEFAULT_PRIVACY_WORDING = (
    "I agree that {organization} may record this call and store my contact details to follow up on my "
    "enquiry, as described in its privacy policy. I can ask for my data to be exported or erased at any time."
)


@dataclass(frozen=True)
class CampaignView:
    campaign: Campaign
    template_key: str | None
    published_version: int | None

    @property
    def id(self) -> int:
        return self.campaign.id


def create_campaign(repo: OrgRepository, *, name: str, description: str = "", knowledge_base_id: int | None = None,
                    template: str = DEFAULT_TEMPLATE, publish: bool = True, ip: str | None = None) -> Campaign:
    """A campaign with a flow from ``template`` (published unless ``publish`` is false) and a knowledge base
    (the one given, or a new empty one)."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    name = check_name(name, "campaign name", "name")
    require_template(template)
    if knowledge_base_id is not None and not repo.list(KnowledgeBase, KnowledgeBase.id == knowledge_base_id):
        raise ValidationFailed(f"Knowledge base {knowledge_base_id} does not exist in your organisation. Pick one "
                               "of yours, or leave it empty to start with a new one.", field="knowledge_base_id")
    organization = repo.session.get(Organization, repo.scope.organization_id)
    campaign = repo.add(Campaign(
        organization_id=repo.scope.organization_id, name=name, description=(description or "").strip(),
        slug=unique_slug(repo.session, Campaign, f"{organization.slug}-{name}"),
        greeting=f"Hi, thanks for calling {organization.name}! How can I help you today?",
        privacy_wording=DEFAULT_PRIVACY_WORDING.format(organization=organization.name),
        knowledge_base_id=knowledge_base_id, created_by_id=repo.scope.user_id))
    editing.create_flow(repo, campaign.id, template)
    if publish:
        publishing.publish(repo, campaign.id)
    audit.record(repo.session, "campaign.created", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="campaign", target_id=campaign.id, ip=ip,
                 template=template)
    return campaign


def list_campaigns(repo: OrgRepository, *, limit: int = 100, offset: int = 0) -> list[CampaignView]:
    repo.scope.require(Permission.VIEW)
    campaigns = repo.list(Campaign, Campaign.deleted_at.is_(None), order_by=Campaign.created_at.desc(),
                          limit=limit, offset=offset)
    return [_view(repo, c) for c in campaigns]


def get_campaign(repo: OrgRepository, campaign_id: int) -> CampaignView:
    repo.scope.require(Permission.VIEW)
    return _view(repo, repo.get(Campaign, campaign_id))


def _view(repo: OrgRepository, campaign: Campaign) -> CampaignView:
    flow = repo.session.get(Flow, campaign.flow_id) if campaign.flow_id else None
    if flow is None or flow.organization_id != repo.scope.organization_id:
        return CampaignView(campaign, None, None)
    version = repo.session.get(FlowVersion, flow.published_version_id) if flow.published_version_id else None
    return CampaignView(campaign, flow.template_key, version.version if version else None)
