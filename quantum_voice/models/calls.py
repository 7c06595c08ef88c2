"""Calls (conversations), what was said in them, and the caller's consent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import StrEnum, created_at_field, json_field, org_fk, ts_field


class ConversationStatus(StrEnum):
    RINGING = "ringing"
    ACTIVE = "active"
    HANDED_OFF = "handed_off"
    ENDED = "ended"
    FAILED = "failed"


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"
    __table_args__ = (
        sa.Index("ix_conversations_org_started", "organization_id", "started_at"),
        sa.Index("ix_conversations_campaign_started", "campaign_id", "started_at"),
        sa.Index("ix_conversations_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", ondelete="SET NULL")
    flow_version_id: int | None = Field(default=None, foreign_key="flow_versions.id", ondelete="SET NULL")
    qr_code_id: int | None = Field(default=None, foreign_key="qr_codes.id", ondelete="SET NULL")
    # the person this call was with (several calls from one email are one lead); set when the lead is made. No
    # foreign key: leads.conversation_id already points this way, and SQLite cannot add one to a filled table.
    # A lead is removed only by merging (services/leads/people.py), which moves its calls first.
    lead_id: int | None = Field(default=None, index=True)
    channel: str = Field(default="web", max_length=20)  # web | widget | qr | simulator | api
    status: str = Field(default=ConversationStatus.RINGING.value, max_length=20)
    is_test: bool = Field(default=False)  # test calls stay out of analytics
    worker_id: str | None = Field(default=None, max_length=120)  # the voice sidecar serving it
    caller_ip_hash: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=400)
    flow_state: dict[str, Any] = json_field()
    summary: str | None = Field(default=None, sa_type=sa.Text)
    end_reason: str | None = Field(default=None, max_length=60)
    started_at: datetime = created_at_field()
    answered_at: datetime | None = ts_field()
    ended_at: datetime | None = ts_field()
    duration_seconds: float | None = None


class Speaker(StrEnum):
    CALLER = "caller"
    AGENT = "agent"  # the AI
    HUMAN_AGENT = "human_agent"
    SYSTEM = "system"


class TranscriptTurn(SQLModel, table=True):
    __tablename__ = "transcript_turns"
    __table_args__ = (sa.UniqueConstraint("conversation_id", "seq", name="uq_transcript_turns_conv_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    conversation_id: int = Field(foreign_key="conversations.id", index=True, ondelete="CASCADE")
    seq: int
    speaker: str = Field(max_length=20)
    text: str = Field(sa_type=sa.Text)
    interrupted: bool = Field(default=False)  # agent speech cut off by the caller (barge-in)
    node_id: str | None = Field(default=None, max_length=80)
    confidence: float | None = None
    offset_ms: int | None = None  # from the start of the call
    duration_ms: int | None = None
    meta: dict[str, Any] = json_field()
    created_at: datetime = created_at_field()


class ConsentRecord(SQLModel, table=True):
    """A consent ticket. Written once, never updated (except to note an erasure): the record of what the caller
    agreed to."""

    __tablename__ = "consent_records"
    __table_args__ = (sa.Index("ix_consent_records_org_email", "organization_id", "email"),
                      sa.Index("ix_consent_records_org_time", "organization_id", "created_at"))  # analytics' funnel

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=36, unique=True, index=True)  # uuid4 shown to the caller
    organization_id: int = org_fk()
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", ondelete="SET NULL")
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", ondelete="SET NULL")
    email: str | None = Field(default=None, max_length=320)
    granted: bool
    wording: str = Field(sa_type=sa.Text)
    policy_version: str = Field(max_length=40)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=400)
    created_at: datetime = created_at_field()
    # the one later write: when the person's data was erased (the ticket itself stays, as the legal record)
    erased_at: datetime | None = ts_field()
