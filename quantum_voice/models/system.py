"""Operations: metrics, voice sidecar heartbeats, the email outbox and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import StrEnum, UTCDateTime, created_at_field, json_field, ts_field


class SystemMetric(SQLModel, table=True):
    __tablename__ = "system_metrics"
    __table_args__ = (sa.Index("ix_system_metrics_name_time", "name", "recorded_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organizations.id", ondelete="CASCADE")
    name: str = Field(max_length=120)  # e.g. "turn_latency_ms", "stt_seconds"
    value: float
    labels: dict[str, Any] = json_field()
    source: str = Field(default="app", max_length=60)
    recorded_at: datetime = created_at_field()


class VoiceWorker(SQLModel, table=True):
    """A running voice sidecar, as last reported by its heartbeat."""

    __tablename__ = "voice_workers"

    id: str = Field(primary_key=True, max_length=120)  # host:pid or a configured name
    host: str = Field(max_length=200)
    pid: int | None = None
    version: str | None = Field(default=None, max_length=40)
    transport: str = Field(default="embedded", max_length=20)  # embedded | livekit
    capacity: int = Field(default=4)
    active_calls: int = Field(default=0)
    # where the app opens browser calls on it (agent/transports/signalling.py); None: it takes no browser calls
    media_url: str | None = Field(default=None, max_length=500)
    started_at: datetime = created_at_field()
    last_heartbeat_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class EmailStatus(StrEnum):
    LOGGED = "logged"  # no SMTP configured: kept here and printed to the log
    SENT = "sent"
    FAILED = "failed"


class EmailMessage(SQLModel, table=True):
    """The outbox: every email the app sends, with how it went."""

    __tablename__ = "email_outbox"
    __table_args__ = (sa.Index("ix_email_outbox_to_time", "to_address", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organizations.id", ondelete="CASCADE", index=True)
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str | None = Field(default=None, sa_type=sa.Text)
    kind: str = Field(max_length=40)  # verify_email | reset_password | invitation | notification
    status: str = Field(max_length=20)
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = created_at_field()
    sent_at: datetime | None = ts_field()


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_logs"
    __table_args__ = (
        sa.Index("ix_audit_logs_org_time", "organization_id", "created_at"),
        sa.Index("ix_audit_logs_action", "action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organizations.id", ondelete="CASCADE")
    actor_user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    action: str = Field(max_length=60)  # auth.sign_in, auth.sign_in_failed, team.invite, ...
    target_type: str | None = Field(default=None, max_length=60)
    target_id: str | None = Field(default=None, max_length=60)
    ip: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = json_field()
    created_at: datetime = created_at_field()
