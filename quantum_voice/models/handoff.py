"""Hand-off of live calls to human agents: requests, agent presence and the rules that trigger them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import StrEnum, created_at_field, json_field, org_fk, ts_field


class HandoffStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class Handoff(SQLModel, table=True):
    __tablename__ = "handoffs"
    __table_args__ = (
        sa.Index("ix_handoffs_org_status_priority", "organization_id", "status", "priority"),
        sa.Index("ix_handoffs_org_status_requested", "organization_id", "status", "requested_at"),  # the queue
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    conversation_id: int = Field(foreign_key="conversations.id", index=True, ondelete="CASCADE")
    lead_id: int | None = Field(default=None, foreign_key="leads.id", ondelete="SET NULL")
    reason: str = Field(max_length=30)  # request | keyword | duration | low_confidence
    reason_detail: str | None = Field(default=None, max_length=500)
    priority: int = Field(default=0)
    required_skill: str | None = Field(default=None, max_length=60)
    status: str = Field(default=HandoffStatus.WAITING.value, max_length=20)
    assigned_user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    disposition: str | None = Field(default=None, max_length=40)
    notes: str | None = Field(default=None, sa_type=sa.Text)
    requested_at: datetime = created_at_field()
    accepted_at: datetime | None = ts_field()
    ended_at: datetime | None = ts_field()


class PresenceStatus(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"


class AgentPresence(SQLModel, table=True):
    __tablename__ = "agent_presence"
    __table_args__ = (sa.UniqueConstraint("organization_id", "user_id", name="uq_agent_presence_org_user"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    status: str = Field(default=PresenceStatus.OFFLINE.value, max_length=20)
    skills: list[str] = json_field(list)
    max_concurrent: int = Field(default=1)
    last_heartbeat_at: datetime | None = ts_field()
    status_since: datetime | None = ts_field()  # when the status last changed: the start of an idle spell


class HandoffRule(SQLModel, table=True):
    __tablename__ = "handoff_rules"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", ondelete="CASCADE")
    name: str = Field(max_length=200)
    trigger: str = Field(max_length=30)  # request | keyword | duration | low_confidence
    config: dict[str, Any] = json_field()  # {"keywords": [...]} / {"minutes": 5} / {"misses": 3}
    priority: int = Field(default=0)
    required_skill: str | None = Field(default=None, max_length=60)
    enabled: bool = Field(default=True)
    created_at: datetime = created_at_field()
