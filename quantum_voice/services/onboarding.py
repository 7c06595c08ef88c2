"""The first-run wizard: name the organisation, pick an industry, create the first campaign."""

from __future__ import annotations

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import Conflict, ValidationFailed
from quantum_voice.models.accounts import Organization
from quantum_voice.models.campaigns import Campaign
from quantum_voice.services import audit
from quantum_voice.services.accounts import check_name
from quantum_voice.services.campaigns import DEFAULT_PRIVACY_WORDING, create_campaign
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

INDUSTRIES: dict[str, str] = {
    "real_estate": "Real estate",
    "solar": "Solar and energy",
    "healthcare": "Clinics and healthcare",
    "automotive": "Car dealership",
    "home_services": "Home services",
    "hospitality": "Hospitality",
    "education": "Education",
    "saas": "Software",
    "other": "Other",
}

__all__ = ["DEFAULT_PRIVACY_WORDING", "INDUSTRIES", "complete_onboarding", "needs_onboarding", "new_campaign"]


def needs_onboarding(org: Organization) -> bool:
    return org.onboarding_completed_at is None


def new_campaign(repo: OrgRepository, org: Organization, name: str) -> Campaign:
    """The first campaign (of ``repo``'s organisation, which is ``org``): the "Lead capture + Q&A" flow,
    published, with a new empty knowledge base."""
    return create_campaign(repo, name=name)


def complete_onboarding(repo: OrgRepository, *, organization_name: str, industry: str,
                        first_campaign_name: str, ip: str | None = None) -> Campaign:
    repo.scope.require(Permission.MANAGE_ORGANIZATION)
    name = check_name(organization_name, "organisation name", "organization_name")
    if industry not in INDUSTRIES:
        raise ValidationFailed(f"Pick an industry from the list ({', '.join(INDUSTRIES)}).", field="industry")
    campaign_name = check_name(first_campaign_name, "campaign name", "first_campaign_name")
    org = repo.session.get(Organization, repo.scope.organization_id)
    assert org is not None
    if not needs_onboarding(org):  # once only: it renames the organisation and creates a campaign
        raise Conflict("This organisation has already been set up. Create campaigns on the Campaigns page.",
                       code="already_onboarded")
    org.name, org.industry = name, industry
    org.onboarding_completed_at = org.updated_at = utcnow()
    campaign = new_campaign(repo, org, campaign_name)
    audit.record(repo.session, "organization.onboarded", organization_id=org.id, actor_user_id=repo.scope.user_id,
                 target_type="campaign", target_id=campaign.id, ip=ip, industry=industry)
    return campaign
