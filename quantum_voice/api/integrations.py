"""/api/integrations: the organisation's Slack, Asana, Resend and email-recipient settings, and "Send test".
Everyone in the organisation reads; owners and admins connect, change and disconnect. Secrets are write-only: a
response says whether each is set and shows its last 4 characters at most.

/api/campaigns/{id}/notifications: which channels hear about each score band of the campaign's leads
(docs/notifications.md); managers and up change it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from quantum_voice.api.deps import Repo, client_ip
from quantum_voice.api.schema import errors
from quantum_voice.models.campaigns import Campaign
from quantum_voice.services import integrations
from quantum_voice.services.flows.editing import live_campaign
from quantum_voice.services.notifications import dispatch, policy
from quantum_voice.services.permissions import Permission

router = APIRouter(prefix="/api/integrations", tags=["integrations"])
campaign_router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])


class SecretOut(BaseModel):
    set: bool
    last4: str = Field("", description="The last 4 characters of a long secret, to tell keys apart")


class IntegrationOut(BaseModel):
    provider: str = Field(description="slack, asana, email or resend")
    label: str
    connected: bool
    enabled: bool
    config: dict[str, Any] = Field(description="slack: channel; asana: project_gid; email: recipients (empty: the "
                                               "owners); resend: from_address")
    secrets: dict[str, SecretOut] = Field(description="slack: bot_token; asana: access_token; resend: api_key")
    updated_at: datetime | None


class IntegrationIn(BaseModel):
    """Settings and secrets of one provider. A secret left out or blank keeps the stored one."""

    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True


class TestResult(BaseModel):
    ok: bool
    message: str


def _out(view: integrations.IntegrationView) -> IntegrationOut:
    return IntegrationOut(provider=view.provider, label=view.label, connected=view.connected, enabled=view.enabled,
                          config=view.config, updated_at=view.updated_at,
                          secrets={k: SecretOut(set=v.set, last4=v.last4) for k, v in view.secrets.items()})


@router.get("", response_model=list[IntegrationOut])
def list_integrations(repo: Repo) -> list[IntegrationOut]:
    return [_out(view) for view in integrations.list_integrations(repo)]


@router.get("/{provider}", response_model=IntegrationOut)
def get_integration(provider: str, repo: Repo) -> IntegrationOut:
    return _out(integrations.get_integration(repo, provider))


@router.put("/{provider}", response_model=IntegrationOut)
def save_integration(provider: str, body: IntegrationIn, repo: Repo, request: Request) -> IntegrationOut:
    return _out(integrations.save_integration(repo, provider, config=body.config, secrets=body.secrets,
                                              enabled=body.enabled, ip=client_ip(request)))


@router.delete("/{provider}", status_code=204)
def disconnect_integration(provider: str, repo: Repo, request: Request) -> Response:
    integrations.disconnect_integration(repo, provider, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/{provider}/test", response_model=TestResult, responses=errors(502))
def send_test(provider: str, repo: Repo) -> TestResult:
    return TestResult(ok=True, message=dispatch.send_test_message(repo, provider))


class NotificationPolicy(BaseModel):
    """Channels per band: slack, asana, email, digest. A band left out keeps its default."""

    hot: list[str] | None = None
    warm: list[str] | None = None
    cold: list[str] | None = None


class NotificationPolicyOut(BaseModel):
    hot: list[str]
    warm: list[str]
    cold: list[str]
    customised: bool = Field(description="false: the campaign uses the defaults")


def _policy_out(campaign: Campaign) -> NotificationPolicyOut:
    return NotificationPolicyOut(**policy.effective_policy(campaign),
                                 customised=policy.SETTINGS_KEY in (campaign.settings or {}))


@campaign_router.get("/{campaign_id}/notifications", response_model=NotificationPolicyOut)
def get_campaign_notifications(campaign_id: int, repo: Repo) -> NotificationPolicyOut:
    repo.scope.require(Permission.VIEW)
    return _policy_out(live_campaign(repo, campaign_id))


@campaign_router.put("/{campaign_id}/notifications", response_model=NotificationPolicyOut)
def set_campaign_notifications(campaign_id: int, body: NotificationPolicy, repo: Repo) -> NotificationPolicyOut:
    value = body.model_dump(exclude_none=True)
    policy.set_campaign_policy(repo, campaign_id, value or None)
    return _policy_out(live_campaign(repo, campaign_id))
