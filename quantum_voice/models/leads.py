"""Leads: who called, what they want, how hot they are, and what the team did about it.

One lead per person: the same email within an organisation is one lead with several conversations
(``conversations.lead_id``). Leads from test calls are kept apart (``is_test``) and never merged with real ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import StrEnum, created_at_field, json_field, org_fk, ts_field


class LeadBand(StrEnum):
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


class LeadStatus(StrEnum):
    """The pipeline a lead moves along: new → contacted → qualified → won or lost (any step may be revisited)."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    WON = "won"
    LOST = "lost"


class Lead(SQLModel, table=True):
    __tablename__ = "leads"
    __table_args__ = (
        sa.Index("ix_leads_org_created", "organization_id", "created_at"),
        sa.Index("ix_leads_org_score", "organization_id", "score"),
        sa.Index("ix_leads_org_band", "organization_id", "band"),
        sa.Index("ix_leads_org_status", "organization_id", "status"),
        sa.Index("ix_leads_org_email", "organization_id", "email"),
        sa.Index("ix_leads_campaign", "campaign_id"),
        sa.Index("ix_leads_org_test_created", "organization_id", "is_test", "created_at"),
        sa.Index("ix_leads_org_assignee", "organization_id", "assignee_user_id"),
        sa.Index("ix_leads_org_phone", "organization_id", "phone"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", ondelete="SET NULL")
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", ondelete="SET NULL")
    consent_record_id: int | None = Field(default=None, foreign_key="consent_records.id", ondelete="SET NULL")
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    company: str | None = Field(default=None, max_length=200)
    interest: str | None = Field(default=None, max_length=500)
    timeline: str | None = Field(default=None, max_length=200)
    budget: str | None = Field(default=None, max_length=200)
    custom_fields: dict[str, Any] = json_field()
    score: int = Field(default=0)
    band: str = Field(default=LeadBand.COLD.value, max_length=10)
    score_breakdown: list[dict[str, Any]] = json_field(list)
    status: str = Field(default=LeadStatus.NEW.value, max_length=30)
    summary: str | None = Field(default=None, sa_type=sa.Text)
    assignee_user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    is_test: bool = Field(default=False)  # from a test call: kept out of the default list, never merged with real
    erased_at: datetime | None = ts_field()  # personal data replaced by a tombstone (services/leads/privacy.py)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class ActivityKind(StrEnum):
    CREATED = "created"
    STATUS = "status"
    ASSIGNED = "assigned"
    NOTE = "note"
    MERGED = "merged"
    NOTIFIED = "notified"
    EXPORTED = "exported"
    ERASED = "erased"
    HANDOFF = "handoff"  # a team member's disposition after taking the call (services/handoffs/disposition.py)
    EDITED = "edited"  # the agent on the call corrected the lead's details (services/handoffs/lead_on_call.py)


class LeadActivity(SQLModel, table=True):
    """What happened to a lead, in order: status changes (the pipeline's history), assignments, notes, merges,
    notifications sent, exports and erasure."""

    __tablename__ = "lead_activities"
    __table_args__ = (sa.Index("ix_lead_activities_lead_time", "lead_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    lead_id: int = Field(foreign_key="leads.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)
    actor_user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    text: str | None = Field(default=None, sa_type=sa.Text)  # a note's words
    details: dict[str, Any] = json_field()  # {"from": "new", "to": "contacted"}, {"assignee_user_id": 3}, ...
    created_at: datetime = created_at_field()
