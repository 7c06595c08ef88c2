"""Campaigns: created from a flow template (published at once, so the campaign can take calls), listed, edited,
taken live or paused, soft-deleted; and the public lookup of a campaign by its call link."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import Conflict, ValidationFailed
from quantum_voice.models.accounts import Organization
from quantum_voice.models.campaigns import Campaign, CampaignStatus
from quantum_voice.models.flows import Flow, FlowVersion
from quantum_voice.models.knowledge import KnowledgeBase
from quantum_voice.services import audit, paging
from quantum_voice.services.accounts import check_name, unique_slug
from quantum_voice.services.flows import editing, publishing
from quantum_voice.services.flows.templates import DEFAULT_TEMPLATE, require_template
from quantum_voice.services.handoffs.expiry import MAX_WAIT_SECONDS, MIN_WAIT_SECONDS
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


def list_campaigns(repo: OrgRepository, *, limit: int = 100, offset: int = 0,
                   after: tuple[datetime, int] | None = None) -> list[CampaignView]:
    """Newest first; ``after``: the (created_at, id) of the last campaign seen (the API's cursor)."""
    repo.scope.require(Permission.VIEW)
    stmt = paging.after(repo.select(Campaign).where(Campaign.deleted_at.is_(None)),
                        (Campaign.created_at, Campaign.id), after, descending=True)
    return [_view(repo, c) for c in repo.session.exec(stmt.offset(offset).limit(limit)).all()]


def get_campaign(repo: OrgRepository, campaign_id: int) -> CampaignView:
    repo.scope.require(Permission.VIEW)
    return _view(repo, active_campaign(repo, campaign_id))


active_campaign = editing.live_campaign  # a deleted campaign is "not found", like another organisation's


def call_url(campaign: Campaign) -> str:
    """The public call link callers open (the QR codes and the widget lead here)."""
    return f"{get_settings().app_url.rstrip('/')}/call/{quote(campaign.slug)}"


# ---------------------------------------------------------------- editing

SETTABLE_STATUSES = (CampaignStatus.DRAFT.value, CampaignStatus.LIVE.value, CampaignStatus.PAUSED.value)
BRAND_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
MIN_CALL_SECONDS, MAX_CALL_SECONDS = 30, 3600
_TEXT_LIMITS = {"description": 5000, "target_audience": 500, "greeting": 2000, "privacy_wording": 5000}
_LOGO_URL_MAX = 500
_UNSAFE_IN_URL = re.compile(r"[\s\"'<>\\`\x00-\x1f\x7f]")


def update_campaign(repo: OrgRepository, campaign_id: int, changes: Mapping[str, Any], *,
                    ip: str | None = None) -> Campaign:
    """Apply the given fields (a partial update). Going live needs a published flow and privacy wording."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    campaign = active_campaign(repo, campaign_id)
    unknown = sorted(set(changes) - set(_CHECKS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]} cannot be changed here. Changeable: {', '.join(_CHECKS)}.",
                               field=unknown[0])
    values = {name: _CHECKS[name](repo, value) for name, value in changes.items()}
    changed = {name: value for name, value in values.items() if _current(campaign, name) != value}
    if not changed:
        return campaign
    _check_live_rules(repo, campaign, changed)
    old_status = campaign.status
    for name, value in changed.items():
        if name in _IN_SETTINGS:
            campaign.settings = {**(campaign.settings or {}), name: value}
        else:
            setattr(campaign, name, value)
    campaign.updated_at = utcnow()
    repo.session.flush()
    status = {"status_from": old_status, "status_to": campaign.status} if "status" in changed else {}
    audit.record(repo.session, "campaign.updated", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="campaign", target_id=campaign.id, ip=ip,
                 fields=sorted(changed), **status)
    return campaign


def delete_campaign(repo: OrgRepository, campaign_id: int, *, ip: str | None = None) -> None:
    """Soft delete: the campaign leaves every list, its call link and QR codes stop working; calls and leads stay.
    The slug stays taken, so an old printed QR code never leads to a different campaign."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    campaign = active_campaign(repo, campaign_id)
    campaign.deleted_at = campaign.updated_at = utcnow()
    repo.session.flush()
    audit.record(repo.session, "campaign.deleted", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="campaign", target_id=campaign.id, ip=ip,
                 name=campaign.name, slug=campaign.slug)


def _check_live_rules(repo: OrgRepository, campaign: Campaign, changed: Mapping[str, Any]) -> None:
    """Checked before anything is changed: a live campaign takes calls, so it needs a published flow (checked when
    it goes live) and the privacy wording callers agree to (checked on every change while live)."""
    if changed.get("status", campaign.status) != CampaignStatus.LIVE.value:
        return
    if "status" in changed and _view(repo, campaign).published_version is None:
        raise Conflict(f"Campaign '{campaign.name}' cannot go live: its flow is not published yet. Open it in the "
                       f"flow designer and publish it (POST /api/flows/{campaign.id}/publish), then go live.",
                       code="flow_not_published", field="status")
    if not changed.get("privacy_wording", campaign.privacy_wording).strip():
        raise ValidationFailed("Enter the privacy wording callers agree to: a live campaign needs it.",
                               field="privacy_wording")


def _text(field: str):
    def check(_: OrgRepository, value: Any) -> str:
        if not isinstance(value, str):
            raise ValidationFailed(f"{field} must be text (send \"\" to empty it, or leave it out to keep it).",
                                   field=field)
        value = value.strip()
        if len(value) > _TEXT_LIMITS[field]:
            raise ValidationFailed(f"{field} is too long ({_TEXT_LIMITS[field]} characters at most).", field=field)
        return value
    return check


def _name(_: OrgRepository, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationFailed("Enter the campaign name.", field="name")
    return check_name(value, "campaign name", "name")


def _status(_: OrgRepository, value: Any) -> str:
    if value not in SETTABLE_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(SETTABLE_STATUSES)} (got {value!r}).",
                               field="status")
    return value


def _knowledge_base(repo: OrgRepository, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not repo.list(KnowledgeBase, KnowledgeBase.id == value):
        raise ValidationFailed(f"Knowledge base {value} does not exist in your organisation. Pick one of yours "
                               "(GET /api/knowledge/bases).", field="knowledge_base_id")
    return value


def _brand_color(_: OrgRepository, value: Any) -> str:
    if not isinstance(value, str) or not BRAND_COLOR.fullmatch(value.strip()):
        raise ValidationFailed(f"brand_color must be a hex colour like #6E56CF (got {value!r}).", field="brand_color")
    return value.strip().upper()


def _logo_url(_: OrgRepository, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValidationFailed("logo_url must be text.", field="logo_url")
    value = value.strip()
    if len(value) > _LOGO_URL_MAX:
        raise ValidationFailed(f"logo_url is too long ({_LOGO_URL_MAX} characters at most).", field="logo_url")
    parts = urlsplit(value)
    is_web = parts.scheme in ("http", "https") and bool(parts.netloc)
    is_path = not parts.scheme and not parts.netloc and value.startswith("/") and not value.startswith("//")
    if _UNSAFE_IN_URL.search(value) or not (is_web or is_path):
        raise ValidationFailed("logo_url must be an http(s) address (https://example.com/logo.png) or a path on "
                               "this site (/assets/logo.png), without spaces or quotes.", field="logo_url")
    return value


def _policy_version(_: OrgRepository, value: Any) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > 40:
        raise ValidationFailed("privacy_policy_version must be 1 to 40 characters, e.g. \"2024-05\" or \"2\".",
                               field="privacy_policy_version")
    return value


def _max_call_seconds(_: OrgRepository, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_CALL_SECONDS <= value <= MAX_CALL_SECONDS:
        raise ValidationFailed(f"max_call_seconds must be a whole number from {MIN_CALL_SECONDS} to "
                               f"{MAX_CALL_SECONDS} (got {value!r}).", field="max_call_seconds")
    return value


def _handoff_wait_seconds(_: OrgRepository, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_WAIT_SECONDS <= value <= MAX_WAIT_SECONDS:
        raise ValidationFailed(f"handoff_wait_seconds must be a whole number from {MIN_WAIT_SECONDS} to "
                               f"{MAX_WAIT_SECONDS} (got {value!r}).", field="handoff_wait_seconds")
    return value


def _current(campaign: Campaign, name: str) -> Any:
    return (campaign.settings or {}).get(name) if name in _IN_SETTINGS else getattr(campaign, name)


_IN_SETTINGS = {"handoff_wait_seconds"}  # kept in Campaign.settings, not a column of their own
_CHECKS = {
    "name": _name, "description": _text("description"), "target_audience": _text("target_audience"),
    "status": _status, "knowledge_base_id": _knowledge_base, "greeting": _text("greeting"),
    "brand_color": _brand_color, "logo_url": _logo_url, "privacy_wording": _text("privacy_wording"),
    "privacy_policy_version": _policy_version, "max_call_seconds": _max_call_seconds,
    "handoff_wait_seconds": _handoff_wait_seconds,
}


def _view(repo: OrgRepository, campaign: Campaign) -> CampaignView:
    flow = repo.session.get(Flow, campaign.flow_id) if campaign.flow_id else None
    if flow is None or flow.organization_id != repo.scope.organization_id:
        return CampaignView(campaign, None, None)
    version = repo.session.get(FlowVersion, flow.published_version_id) if flow.published_version_id else None
    return CampaignView(campaign, flow.template_key, version.version if version else None)
