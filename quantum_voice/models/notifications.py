"""The notification outbox: one row per (lead, channel, band), delivered at least once by the background worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import StrEnum, created_at_field, json_field, org_fk, ts_field


class NotificationChannel(StrEnum):
    SLACK = "slack"
    ASANA = "asana"
    EMAIL = "email"
    DIGEST = "digest"  # cold leads: one email a day listing them


class NotificationStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
    SENDING = "sending"  # claimed by a worker until lease_until; a crashed worker's row is claimed again
    SENT = "sent"
    FAILED = "failed"  # gave up: a permanent error, or out of attempts
    SKIPPED = "skipped"  # the channel is not connected for the organisation


class NotificationDelivery(SQLModel, table=True):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("idempotency_key", name="uq_notification_deliveries_idempotency_key"),
        sa.Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_notification_deliveries_lead", "lead_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    lead_id: int = Field(foreign_key="leads.id", ondelete="CASCADE")
    channel: str = Field(max_length=20)
    band: str = Field(max_length=10)
    # The same for every attempt: sent to the receiver (header or field) so it can drop a repeat.
    idempotency_key: str = Field(max_length=120)
    status: str = Field(default=NotificationStatus.PENDING.value, max_length=20)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = created_at_field()
    lease_until: datetime | None = ts_field()
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    receipt: dict[str, Any] = json_field()  # what the receiver answered: Slack ts, Asana task gid, Resend id
    sent_at: datetime | None = ts_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
