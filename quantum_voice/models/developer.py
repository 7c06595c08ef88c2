"""The developer portal's tables: API keys, webhooks and every delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import StrEnum, UTCDateTime, created_at_field, json_field, org_fk, ts_field


class ApiKey(SQLModel, table=True):
    """An API key. The key itself is shown once; only its hash and a short prefix are stored."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16, index=True)  # "qv_live_ab12" — lets people tell keys apart
    key_hash: str = Field(max_length=64, unique=True)
    role: str = Field(default="manager", max_length=20)  # what the key may do
    scopes: list[str] = json_field(list)
    mode: str = Field(default="live", max_length=4)  # live | test: a test key sees and makes test data only
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = ts_field()  # written at most once a minute per key
    last_used_ip: str | None = Field(default=None, max_length=64)
    expires_at: datetime | None = ts_field()
    revoked_at: datetime | None = ts_field()
    # the key this one replaced by rotation (the old one keeps working for the overlap the rotation chose)
    rotated_from_id: int | None = Field(default=None, foreign_key="api_keys.id", ondelete="SET NULL")


class Webhook(SQLModel, table=True):
    """An organisation's endpoint for outgoing events (services/developer/webhooks.py)."""

    __tablename__ = "webhooks"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=500)
    events: list[str] = json_field(list)  # ["lead.created", "call.ended", ...]
    # The whsec_… secret, encrypted (core/secretbox.py): needed in clear to sign; never logged or shown twice.
    signing_secret: str = Field(sa_type=sa.Text)
    secret_hint: str = Field(default="", max_length=16)  # "whsec_ab12", to tell a rolled secret from the old one
    enabled: bool = Field(default=True)
    test_events: bool = Field(default=False)  # also send events of test data ("livemode": false)
    consecutive_failures: int = Field(default=0)  # failed attempts since the last success
    failing_since: datetime | None = ts_field()  # the first failed attempt since the last success
    disabled_reason: str | None = Field(default=None, max_length=300)
    disabled_at: datetime | None = ts_field()
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not tried yet
    SENDING = "sending"  # claimed by a worker until lease_until; a dead worker's delivery is claimed again
    RETRYING = "retrying"  # failed, tried again at next_attempt_at
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint, delivered at least once by the worker (services/developer/webhook_delivery.py)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_webhook_time", "webhook_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    webhook_id: int = Field(foreign_key="webhooks.id", ondelete="CASCADE")
    event_id: str = Field(max_length=40)  # same id on every retry, for the receiver's de-duplication
    event_type: str = Field(max_length=60)
    payload: dict[str, Any] = json_field()
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=20)
    attempt_count: int = Field(default=0)
    next_attempt_at: datetime | None = ts_field()
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_duration_ms: int | None = None
    lease_until: datetime | None = ts_field()
    first_attempt_at: datetime | None = ts_field()  # retries stop 24 h after it
    created_at: datetime = created_at_field()
    delivered_at: datetime | None = ts_field()


class WebhookAttempt(SQLModel, table=True):
    """One try of a delivery: the delivery log. Bounded by the retry policy and pruned with its delivery."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    delivery_id: int = Field(foreign_key="webhook_deliveries.id", index=True, ondelete="CASCADE")
    number: int  # 1 for the first try of the delivery
    manual: bool = Field(default=False)  # a replay or a test event someone asked for
    attempted_at: datetime = created_at_field()
    status_code: int | None = None
    response_excerpt: str | None = Field(default=None, sa_type=sa.Text)  # the receiver's first 1 KB
    error: str | None = Field(default=None, sa_type=sa.Text)
    duration_ms: int | None = None


class IdempotentRequest(SQLModel, table=True):
    """A POST sent with an ``Idempotency-Key``: reserved while it runs, then its 2xx response, replayed to a retry
    for 24 hours (api/idempotency.py). ``caller`` is the credential: ``key:<api key id>`` or ``user:<user id>``."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "caller", "method", "path", "idempotency_key",
                            name="uq_idempotent_requests_caller_key"),
        sa.Index("ix_idempotent_requests_expires_at", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    caller: str = Field(max_length=40)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    idempotency_key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)  # SHA-256 of the body: the same key with another body is refused
    status_code: int | None = Field(default=None)  # None while the first request still runs
    response_body: str | None = Field(default=None, sa_type=sa.Text)
    response_headers: dict[str, str] = json_field(dict)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
