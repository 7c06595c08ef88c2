"""/api/developer/keys: the organisation's API keys. Managers and up list them; owners and admins create, revoke
and rotate them, signed in (an API key cannot call these routes). A new key's secret is in the creating (or
rotating) response only.

/api/webhooks: the organisation's webhook endpoints and their delivery log, for the same people, and for API keys
with the ``webhooks`` scopes (the path's first part names the scope). How both work: docs/developers.md."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from quantum_voice.api import cursors
from quantum_voice.api.deps import Repo, client_ip
from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.services import paging
from quantum_voice.services.developer import api_keys, webhook_targets, webhooks
from quantum_voice.services.developer.scopes import ALL_SCOPES
from quantum_voice.services.developer.webhook_events import EVENT_TYPES

router = APIRouter(prefix="/api/developer", tags=["developer"])


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, description="What uses the key, e.g. \"CRM sync\"")
    scopes: list[str] = Field(max_length=len(ALL_SCOPES), description="e.g. [\"leads:read\", \"knowledge:write\"]; "
                                                                      "write implies read")
    role: str = Field("manager", description="admin, manager, agent or viewer; no higher than yours")
    mode: Literal["live", "test"] = Field("live", description="live (qv_live_…), or test (qv_test_…): sees and "
                                                              "makes test calls and test leads only")
    expires_at: datetime | None = Field(None, description="When the key stops working; empty: never")
    expires_in_days: int | None = Field(None, ge=1, le=api_keys.MAX_LIFETIME_DAYS,
                                        description="Instead of expires_at: days from now")


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: float = Field(api_keys.DEFAULT_OVERLAP_HOURS, ge=0, le=api_keys.MAX_OVERLAP_HOURS,
                                 description="How long the old key keeps working (0 to 168 hours)")


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters (qv_live_ab12), to tell keys apart")
    scopes: list[str]
    role: str
    mode: str = Field(description="live or test")
    status: str = Field(description="active, expired or revoked")
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    last_used_ip: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    rotated_from_id: int | None


class NewKeyOut(KeyOut):
    secret: str = Field(description="The whole key. Shown in this response only: store it now")


def _out(view: api_keys.KeyView) -> KeyOut:
    return KeyOut(**view.__dict__)


def _new(new: api_keys.NewKey) -> NewKeyOut:
    return NewKeyOut(**new.key.__dict__, secret=new.secret)


@router.get("/keys", response_model=list[KeyOut])
def list_keys(repo: Repo) -> list[KeyOut]:
    return [_out(view) for view in api_keys.list_keys(repo)]


@router.post("/keys", response_model=NewKeyOut, status_code=201)
def create_key(body: KeyIn, repo: Repo, request: Request) -> NewKeyOut:
    if body.expires_at is not None and body.expires_in_days is not None:
        raise ValidationFailed("Give expires_at or expires_in_days, not both.", field="expires_in_days")
    expires_at = body.expires_at
    if body.expires_in_days is not None:
        expires_at = utcnow() + timedelta(days=body.expires_in_days)
    return _new(api_keys.create_key(repo, name=body.name, scopes=body.scopes, role=body.role, mode=body.mode,
                                    expires_at=expires_at, ip=client_ip(request)))


@router.post("/keys/{key_id}/revoke", response_model=KeyOut)
def revoke_key(key_id: int, repo: Repo, request: Request) -> KeyOut:
    return _out(api_keys.revoke_key(repo, key_id, ip=client_ip(request)))


@router.post("/keys/{key_id}/rotate", response_model=NewKeyOut, status_code=201)
def rotate_key(key_id: int, repo: Repo, request: Request, body: RotateIn | None = None) -> NewKeyOut:
    overlap = body.overlap_hours if body is not None else api_keys.DEFAULT_OVERLAP_HOURS
    return _new(api_keys.rotate_key(repo, key_id, overlap_hours=overlap, ip=client_ip(request)))


# ---------------------------------------------------------------- webhooks: /api/webhooks (scope "webhooks")

webhooks_router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=webhook_targets.MAX_URL_LENGTH, description="A public https address")
    events: list[str] = Field(max_length=len(EVENT_TYPES), description="e.g. [\"lead.created\", \"call.ended\"]")
    description: str = Field("", max_length=webhooks.MAX_DESCRIPTION)
    enabled: bool = True
    test_events: bool = Field(False, description="Also send the events of test data (\"livemode\": false)")


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=webhook_targets.MAX_URL_LENGTH)
    events: list[str] | None = Field(None, max_length=len(EVENT_TYPES))
    description: str | None = Field(None, max_length=webhooks.MAX_DESCRIPTION)
    enabled: bool | None = Field(None, description="false stops deliveries; true clears the failure count")
    test_events: bool | None = Field(None, description="Also send the events of test data (\"livemode\": false)")


class LastDeliveryOut(BaseModel):
    status: str
    event_type: str
    at: datetime
    status_code: int | None


class WebhookOut(BaseModel):
    id: int
    url: str
    description: str
    events: list[str]
    test_events: bool = Field(description="Also gets the events of test data (\"livemode\": false)")
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    secret_hint: str = Field(description="The signing secret's first characters (whsec_ab12)")
    consecutive_failures: int
    failing_since: datetime | None
    created_at: datetime
    last_delivery: LastDeliveryOut | None


class NewWebhookOut(WebhookOut):
    secret: str = Field(description="The whsec_… signing secret. Shown in this response only: store it now")


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    test: bool = Field(description="A \"Send test event\" ping")
    livemode: bool = Field(description="false: an event of test data (test calls, test-mode keys)")
    status: str = Field(description="pending, sending, retrying, succeeded or failed")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None


class AttemptOut(BaseModel):
    number: int
    manual: bool
    attempted_at: datetime
    status_code: int | None
    response_excerpt: str | None
    error: str | None
    duration_ms: int | None


class DeliveryDetailOut(BaseModel):
    delivery: DeliveryOut
    payload: dict[str, Any]
    attempts: list[AttemptOut]


def _hook(view: webhooks.EndpointView) -> WebhookOut:
    return WebhookOut(**{**view.__dict__, "last_delivery": view.last_delivery and LastDeliveryOut(
        **view.last_delivery.__dict__)})


def _detail(detail: webhooks.DeliveryDetail) -> DeliveryDetailOut:
    return DeliveryDetailOut(delivery=DeliveryOut(**detail.delivery.__dict__), payload=detail.payload,
                             attempts=[AttemptOut(**a.__dict__) for a in detail.attempts])


@webhooks_router.get("/event-types", response_model=list[str])
def event_types(repo: Repo) -> list[str]:
    webhooks.list_endpoints(repo)  # the same permission as reading the endpoints
    return list(EVENT_TYPES)


@webhooks_router.get("", response_model=list[WebhookOut], responses=cursors.NEXT_HEADERS)
def list_webhooks(repo: Repo, request: Request, response: Response, limit: cursors.Limit = paging.DEFAULT_LIMIT,
                  cursor: cursors.Cursor = None) -> list[WebhookOut]:
    """Newest first."""
    def order(view: webhooks.EndpointView) -> tuple[int]:
        return (view.id,)

    rest = paging.items_after(webhooks.list_endpoints(repo), order, cursors.key_of(cursor, int), descending=True)
    return [_hook(view) for view in cursors.sent(request, response, paging.batch_of(rest, limit, order))]


@webhooks_router.post("", response_model=NewWebhookOut, status_code=201)
def create_webhook(body: WebhookIn, repo: Repo, request: Request) -> NewWebhookOut:
    new = webhooks.create_endpoint(repo, url=body.url, events=body.events, description=body.description,
                                   enabled=body.enabled, test_events=body.test_events, ip=client_ip(request))
    return NewWebhookOut(**_hook(new.endpoint).model_dump(), secret=new.secret)


@webhooks_router.get("/{webhook_id}", response_model=WebhookOut)
def get_webhook(webhook_id: int, repo: Repo) -> WebhookOut:
    return _hook(webhooks.get_endpoint(repo, webhook_id))


@webhooks_router.patch("/{webhook_id}", response_model=WebhookOut)
def update_webhook(webhook_id: int, body: WebhookPatch, repo: Repo, request: Request) -> WebhookOut:
    return _hook(webhooks.update_endpoint(repo, webhook_id, url=body.url, events=body.events,
                                          description=body.description, enabled=body.enabled,
                                          test_events=body.test_events, ip=client_ip(request)))


@webhooks_router.delete("/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: int, repo: Repo, request: Request) -> Response:
    webhooks.delete_endpoint(repo, webhook_id, ip=client_ip(request))
    return Response(status_code=204)


@webhooks_router.post("/{webhook_id}/roll-secret", response_model=NewWebhookOut)
def roll_secret(webhook_id: int, repo: Repo, request: Request) -> NewWebhookOut:
    new = webhooks.roll_secret(repo, webhook_id, ip=client_ip(request))
    return NewWebhookOut(**_hook(new.endpoint).model_dump(), secret=new.secret)


@webhooks_router.post("/{webhook_id}/test", response_model=DeliveryDetailOut)
def send_test_event(webhook_id: int, repo: Repo, request: Request) -> DeliveryDetailOut:
    """Sends a ``ping`` event now and answers with its delivery (the attempt's code, excerpt and error)."""
    return _detail(webhooks.send_test_event(repo, webhook_id, ip=client_ip(request)))


@webhooks_router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut], responses=cursors.NEXT_HEADERS)
def list_deliveries(webhook_id: int, repo: Repo, request: Request, response: Response,
                    limit: cursors.Limit = webhooks.LOG_PAGE, cursor: cursors.Cursor = None,
                    before_id: int | None = Query(None, ge=1, le=2**62, description="Older than this delivery "
                                                                                    "(the way before cursors)"),
                    status: str | None = Query(None, max_length=20)) -> list[DeliveryOut]:
    """Newest first."""
    if cursor and before_id is not None:
        raise ValidationFailed("Send cursor or before_id, not both.", field="before_id")
    key = cursors.key_of(cursor, int)
    views = webhooks.list_deliveries(repo, webhook_id, limit=limit + 1, before_id=key[0] if key else before_id,
                                     status=status)
    batch = paging.batch_of(views, limit, lambda view: (view.id,))
    return [DeliveryOut(**view.__dict__) for view in cursors.sent(request, response, batch)]


@webhooks_router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=DeliveryDetailOut)
def get_delivery(webhook_id: int, delivery_id: int, repo: Repo) -> DeliveryDetailOut:
    return _detail(webhooks.delivery_detail(repo, webhook_id, delivery_id))


@webhooks_router.post("/{webhook_id}/deliveries/{delivery_id}/replay", response_model=DeliveryDetailOut)
def replay_delivery(webhook_id: int, delivery_id: int, repo: Repo, request: Request) -> DeliveryDetailOut:
    """One more attempt now, same event id and payload; the outcome is the last attempt."""
    return _detail(webhooks.replay(repo, webhook_id, delivery_id, ip=client_ip(request)))
