"""What the public call page shows before a call: the campaign's branding and privacy wording, whether its line
takes calls (or, with the owner's test token, takes a test call), how the page connects, and the "Test call" link."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import NotFound, PermissionDenied
from quantum_voice.models.accounts import Organization
from quantum_voice.models.campaigns import Campaign
from quantum_voice.services import livekit_rooms
from quantum_voice.services.flows.editing import live_campaign
from quantum_voice.services.permissions import Permission
from quantum_voice.services.public_calls.call_limits import why_not_accepting
from quantum_voice.services.public_calls.call_tickets import is_valid_test_token, issue_test_token
from quantum_voice.services.tenancy import OrgRepository


@dataclass(frozen=True)
class CampaignPage:
    """What the public call page shows before the call."""

    slug: str
    name: str
    organization: str
    greeting: str
    brand_color: str
    logo_url: str | None
    privacy_wording: str
    policy_version: str
    accepting_calls: bool
    unavailable_reason: str | None
    is_test: bool
    media: str = "embedded"  # embedded (WebRTC / WebSocket to a voice sidecar) | livekit (a LiveKit room)


def campaign_page(session: Session, slug: str, *, test_token: str | None = None) -> CampaignPage:
    return page_of(session, campaign_by_slug(session, slug), test_token)


def page_of(session: Session, campaign: Campaign, test_token: str | None) -> CampaignPage:
    is_test = bool(test_token) and is_valid_test_token(campaign.id, test_token)
    if test_token and not is_test:
        raise PermissionDenied("This test-call link has expired or is not valid. Open a new one from the "
                               "campaign's page with the Test call button.")
    reason = None if is_test else why_not_accepting(session, campaign)
    organization = session.get(Organization, campaign.organization_id)
    return CampaignPage(slug=campaign.slug, name=campaign.name, organization=organization.name if organization else "",
                        greeting=campaign.greeting, brand_color=campaign.brand_color, logo_url=campaign.logo_url,
                        privacy_wording=campaign.privacy_wording, policy_version=campaign.privacy_policy_version,
                        accepting_calls=reason is None, unavailable_reason=reason, is_test=is_test,
                        media=media_mode())


def campaign_by_slug(session: Session, slug: str) -> Campaign:
    campaign = session.exec(select(Campaign).where(Campaign.slug == (slug or "").strip().lower(),
                                                   Campaign.deleted_at.is_(None))).first()
    if campaign is None:
        raise NotFound("We couldn't find this call link. Check the address, or scan the QR code again.")
    return campaign


def test_call_link(repo: OrgRepository, campaign_id: int) -> str:
    """The "Test call" button: the call page in test mode, for people who manage the campaign."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    campaign = live_campaign(repo, campaign_id)
    return f"{get_settings().app_url.rstrip('/')}/call/{campaign.slug}?test={issue_test_token(campaign.id)}"


def media_mode() -> str:
    """How the page connects: ``livekit`` (a LiveKit server is configured) or ``embedded`` (a voice sidecar)."""
    return "livekit" if livekit_rooms.livekit_enabled() else "embedded"
