"""Leads: who called, what they want, how hot they are."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import StrEnum, created_at_field, json_field, org_fk


class LeadBand(StrEnum):
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    NOT_INTERESTED = "not_interested"
    CALLBACK = "callback_scheduled"
    CONVERTED = "converted"


class Lead(SQLModel, table=True):
    __tablename__ = "leads"
    __table_args__ = (
        sa.Index("ix_leads_org_created", "organization_id", "created_at"),
        sa.Index("ix_leads_org_score", "organization_id", "score"),
        sa.Index("ix_leads_org_band", "organization_id", "band"),
        sa.Index("ix_leads_org_status", "organization_id", "status"),
        sa.Index("ix_leads_org_email", "organization_id", "email"),
        sa.Index("ix_leads_campaign", "campaign_id"),
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
    owner_user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
