"""An organisation's webhook endpoints: create (the ``whsec_…`` signing secret is returned once), change, enable or
disable, delete, roll the secret, send a test event, and read or replay the delivery log.

The same people as API keys: owners and admins manage endpoints, managers see them and their log. An API key may
call these routes with ``webhooks:read`` / ``webhooks:write`` and a role that allows it (admin to manage). The
secret is stored encrypted (core/secretbox.py): it is needed in clear to sign each delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import Conflict, NotFound, ValidationFailed
from quantum_voice.core.secretbox import encrypt_secrets
from quantum_voice.core.security import new_token
from quantum_voice.models.developer import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery
from quantum_voice.services import audit
from quantum_voice.services.developer import webhook_delivery, webhook_targets
from quantum_voice.services.developer.api_keys import MANAGE_PERMISSION, VIEW_PERMISSION, may_manage, may_view
from quantum_voice.services.developer.webhook_events import EVENT_TYPES, PING, envelope, new_event_id
from quantum_voice.services.paging import MAX_LIMIT
from quantum_voice.services.tenancy import OrgRepository

__all__ = ["may_manage", "may_view"]

SECRET_PREFIX = "whsec_"
HINT_LENGTH = 10  # "whsec_ab12"
MAX_ENDPOINTS = 20
MAX_DESCRIPTION = 500
LOG_PAGE = 50
MAX_ATTEMPTS_PER_DELIVERY = 100  # retries make about 30 in a day; replays beyond this are refused (bounded log)


@dataclass(frozen=True)
class LastDelivery:
    status: str
    event_type: str
    at: datetime
    status_code: int | None


@dataclass(frozen=True)
class EndpointView:
    id: int
    url: str
    description: str
    events: list[str]
    test_events: bool  # also gets the events of test data ("livemode": false)
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    secret_hint: str
    consecutive_failures: int
    failing_since: datetime | None
    created_at: datetime
    last_delivery: LastDelivery | None


@dataclass(frozen=True)
class NewSecret:
    endpoint: EndpointView
    secret: str  # shown once


@dataclass(frozen=True)
class DeliveryView:
    id: int
    event_id: str
    event_type: str
    test: bool  # a "Send test event" ping
    livemode: bool  # false: an event of test data
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None


@dataclass(frozen=True)
class AttemptView:
    number: int
    manual: bool
    attempted_at: datetime
    status_code: int | None
    response_excerpt: str | None
    error: str | None
    duration_ms: int | None


@dataclass(frozen=True)
class DeliveryDetail:
    delivery: DeliveryView
    payload: dict[str, Any]
    attempts: list[AttemptView]


# ---------------------------------------------------------------- views

def hint_of(secret: str) -> str:
    return secret[:HINT_LENGTH]


def _last_delivery(repo: OrgRepository, webhook_id: int) -> LastDelivery | None:
    row = repo.session.exec(repo.select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
                            .order_by(col(WebhookDelivery.id).desc()).limit(1)).first()
    if row is None:
        return None
    return LastDelivery(row.status, row.event_type, row.delivered_at or row.created_at, row.last_status_code)


def _view(repo: OrgRepository, hook: Webhook) -> EndpointView:
    assert hook.id is not None
    return EndpointView(hook.id, hook.url, hook.description, list(hook.events or []), hook.test_events, hook.enabled,
                        hook.disabled_reason, hook.disabled_at, hook.secret_hint, hook.consecutive_failures,
                        hook.failing_since, hook.created_at, _last_delivery(repo, hook.id))


def _delivery_view(row: WebhookDelivery) -> DeliveryView:
    assert row.id is not None
    payload = row.payload or {}
    return DeliveryView(row.id, row.event_id, row.event_type, bool(payload.get("test")),
                        payload.get("livemode") is not False, row.status,
                        row.attempt_count, row.created_at, row.next_attempt_at, row.delivered_at,
                        row.last_status_code, row.last_error, row.last_duration_ms)


def _attempt_view(row: WebhookAttempt) -> AttemptView:
    return AttemptView(row.number, row.manual, row.attempted_at, row.status_code, row.response_excerpt, row.error,
                       row.duration_ms)


# ---------------------------------------------------------------- checks

def _check_events(events: list[str] | str) -> list[str]:
    items = events.replace(",", " ").split() if isinstance(events, str) else [str(e) for e in events]
    wanted = {item.strip() for item in items if item.strip()}
    unknown = sorted(wanted - set(EVENT_TYPES))
    if unknown:
        raise ValidationFailed(f"Unknown event{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. Choose from "
                               f"{', '.join(EVENT_TYPES)}.", field="events")
    if not wanted:
        raise ValidationFailed("Choose at least one event to send, e.g. lead.created.", field="events")
    return [event for event in EVENT_TYPES if event in wanted]


def _check_description(description: str | None) -> str:
    description = " ".join((description or "").split())
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(f"A description is at most {MAX_DESCRIPTION} characters.", field="description")
    return description


def _new_secret() -> tuple[str, str]:
    secret = SECRET_PREFIX + new_token(32)
    return secret, encrypt_secrets({"signing_secret": secret})


def _audit(repo: OrgRepository, action: str, hook: Webhook, ip: str | None, **details: Any) -> None:
    audit.record(repo.session, action, organization_id=repo.scope.organization_id, actor_user_id=repo.scope.user_id,
                 target_type="webhook", target_id=hook.id, ip=ip, **{"url": hook.url, **details})


# ---------------------------------------------------------------- endpoints

def list_endpoints(repo: OrgRepository) -> list[EndpointView]:
    repo.scope.require(VIEW_PERMISSION)
    hooks = repo.list(Webhook, order_by=col(Webhook.id).desc(), limit=MAX_ENDPOINTS * 2)
    return [_view(repo, hook) for hook in hooks]


def get_endpoint(repo: OrgRepository, webhook_id: int) -> EndpointView:
    repo.scope.require(VIEW_PERMISSION)
    return _view(repo, repo.get(Webhook, webhook_id))


def create_endpoint(repo: OrgRepository, *, url: str, events: list[str] | str, description: str = "",
                    enabled: bool = True, test_events: bool = False, ip: str | None = None) -> NewSecret:
    """A new endpoint; its signing secret is in the result and, in clear, nowhere else."""
    repo.scope.require(MANAGE_PERMISSION)
    url, event_list, description = webhook_targets.check_url(url), _check_events(events), _check_description(description)
    if repo.count(Webhook) >= MAX_ENDPOINTS:
        raise Conflict(f"An organisation has at most {MAX_ENDPOINTS} webhook endpoints. Delete one you no longer "
                       "use, or subscribe an existing one to more events.", code="too_many_webhooks")
    secret, sealed = _new_secret()
    hook = repo.add(Webhook(organization_id=repo.scope.organization_id, url=url, description=description,
                            events=event_list, signing_secret=sealed, secret_hint=hint_of(secret), enabled=enabled,
                            test_events=test_events, created_by_id=repo.scope.user_id))
    _audit(repo, "webhook.created", hook, ip, events=event_list, test_events=test_events)
    return NewSecret(_view(repo, hook), secret)


def update_endpoint(repo: OrgRepository, webhook_id: int, *, url: str | None = None,
                    events: list[str] | str | None = None, description: str | None = None,
                    enabled: bool | None = None, test_events: bool | None = None,
                    ip: str | None = None) -> EndpointView:
    """Change what is given. Enabling a disabled endpoint clears its failure count and reason."""
    repo.scope.require(MANAGE_PERMISSION)
    hook = repo.get(Webhook, webhook_id)
    changed: dict[str, Any] = {}
    if url is not None and url.strip() != hook.url:
        hook.url = changed["url"] = webhook_targets.check_url(url)
    if events is not None:
        hook.events = changed["events"] = _check_events(events)
    if description is not None:
        hook.description = _check_description(description)
    if test_events is not None and test_events != hook.test_events:
        hook.test_events = changed["test_events"] = test_events
    if enabled is not None and enabled != hook.enabled:
        hook.enabled = changed["enabled"] = enabled
        hook.disabled_reason = None if enabled else "Disabled by a person on the Developers page."
        hook.disabled_at = None if enabled else utcnow()
        if enabled:
            hook.consecutive_failures, hook.failing_since = 0, None
    hook.updated_at = utcnow()
    repo.session.add(hook)
    repo.session.flush()
    if changed:
        _audit(repo, "webhook.updated", hook, ip, **changed)
    return _view(repo, hook)


def delete_endpoint(repo: OrgRepository, webhook_id: int, *, ip: str | None = None) -> None:
    """The endpoint, its deliveries and their log; nothing more is sent to it."""
    repo.scope.require(MANAGE_PERMISSION)
    hook = repo.get(Webhook, webhook_id)
    _audit(repo, "webhook.deleted", hook, ip)
    delivery_ids = select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == hook.id)
    repo.session.execute(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(delivery_ids)))
    repo.session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == hook.id))
    repo.delete(hook)


def roll_secret(repo: OrgRepository, webhook_id: int, *, ip: str | None = None) -> NewSecret:
    """A new signing secret, used from the next delivery on; the old one stops at once."""
    repo.scope.require(MANAGE_PERMISSION)
    hook = repo.get(Webhook, webhook_id)
    secret, hook.signing_secret = _new_secret()
    hook.secret_hint, hook.updated_at = hint_of(secret), utcnow()
    repo.session.add(hook)
    repo.session.flush()
    _audit(repo, "webhook.secret_rolled", hook, ip, secret=hook.secret_hint + "…")
    return NewSecret(_view(repo, hook), secret)


# ---------------------------------------------------------------- the delivery log

def list_deliveries(repo: OrgRepository, webhook_id: int, *, limit: int = LOG_PAGE, before_id: int | None = None,
                    status: str | None = None) -> list[DeliveryView]:
    """The endpoint's deliveries, newest first, ``limit`` at a time (the API asks one more than its batch, to know
    whether more follow) before ``before_id``."""
    repo.scope.require(VIEW_PERMISSION)
    hook = repo.get(Webhook, webhook_id)
    if status is not None and status not in {s.value for s in DeliveryStatus}:
        raise ValidationFailed(f"A delivery's status is one of {', '.join(s.value for s in DeliveryStatus)}.",
                               field="status")
    stmt = repo.select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    if before_id is not None:
        stmt = stmt.where(col(WebhookDelivery.id) < before_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    rows = repo.session.exec(stmt.order_by(col(WebhookDelivery.id).desc()).limit(max(1, min(limit, MAX_LIMIT + 1)))).all()
    return [_delivery_view(row) for row in rows]


def _delivery(repo: OrgRepository, webhook_id: int, delivery_id: int) -> WebhookDelivery:
    row = repo.get(WebhookDelivery, delivery_id)
    if row.webhook_id != webhook_id:
        raise NotFound(f"No delivery with id {delivery_id} for webhook {webhook_id}.")
    return row


def delivery_detail(repo: OrgRepository, webhook_id: int, delivery_id: int) -> DeliveryDetail:
    """One delivery: what was sent (the payload) and every attempt, oldest first."""
    repo.scope.require(VIEW_PERMISSION)
    row = _delivery(repo, webhook_id, delivery_id)
    attempts = repo.session.exec(repo.select(WebhookAttempt).where(WebhookAttempt.delivery_id == row.id)
                                 .order_by(col(WebhookAttempt.id))).all()
    return DeliveryDetail(_delivery_view(row), dict(row.payload or {}), [_attempt_view(a) for a in attempts])


def _attempt_now(repo: OrgRepository, webhook_id: int, delivery_id: int) -> DeliveryDetail:
    # End the request's transaction before calling out: no transaction stays open while the receiver answers.
    repo.session.commit()
    webhook_delivery.deliver_now(delivery_id)
    repo.session.expire_all()
    return delivery_detail(repo, webhook_id, delivery_id)


def replay(repo: OrgRepository, webhook_id: int, delivery_id: int, *, ip: str | None = None) -> DeliveryDetail:
    """One more attempt of a delivery, now, with the same event id and payload (a new signature). Its outcome is in
    the result's last attempt; a replay never starts a new retry schedule."""
    repo.scope.require(MANAGE_PERMISSION)
    row = _delivery(repo, webhook_id, delivery_id)
    if row.attempt_count >= MAX_ATTEMPTS_PER_DELIVERY:
        raise Conflict(f"This delivery was attempted {row.attempt_count} times, the most it may be. Send a test "
                       "event to check the endpoint instead.", code="too_many_attempts")
    hook = repo.get(Webhook, webhook_id)
    _audit(repo, "webhook.replayed", hook, ip, event_id=row.event_id, delivery_id=row.id)
    return _attempt_now(repo, webhook_id, delivery_id)


def send_test_event(repo: OrgRepository, webhook_id: int, *, ip: str | None = None) -> DeliveryDetail:
    """A ``ping`` event (``"test": true``) to the endpoint now, disabled or not; it shows in the log."""
    repo.scope.require(MANAGE_PERMISSION)
    hook = repo.get(Webhook, webhook_id)
    now = utcnow()
    payload = envelope(new_event_id(), PING, repo.scope.organization_id,
                       {"webhook_id": hook.id, "message": "A test event from the Developers page."}, now, test=True)
    row = repo.add(WebhookDelivery(organization_id=repo.scope.organization_id, webhook_id=hook.id,  # type: ignore
                                   event_id=payload["id"], event_type=PING, payload=payload, created_at=now,
                                   status=DeliveryStatus.PENDING.value, next_attempt_at=None))
    _audit(repo, "webhook.test_sent", hook, ip, event_id=row.event_id)
    return _attempt_now(repo, webhook_id, row.id)  # type: ignore[arg-type]
