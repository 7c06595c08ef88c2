"""Usage and cost per provider and call, and the budgets that cap them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import created_at_field, json_field, org_fk


class UsageRecord(SQLModel, table=True):
    __tablename__ = "usage_records"
    __table_args__ = (
        sa.Index("ix_usage_org_time", "organization_id", "created_at"),
        sa.Index("ix_usage_conversation", "conversation_id"),
        sa.Index("ix_usage_campaign_time", "campaign_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    conversation_id: int | None = Field(default=None, foreign_key="conversations.id", ondelete="SET NULL")
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", ondelete="SET NULL")
    provider: str = Field(max_length=40)  # local-whisper | deepgram | piper | openai | ...
    service: str = Field(max_length=20)  # stt | tts | llm | embedding | websearch | media
    model: str | None = Field(default=None, max_length=120)
    quantity: float = Field(default=0.0)
    unit: str = Field(max_length=20)  # seconds | characters | tokens | requests
    cost_usd: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(14, 6))
    created_at: datetime = created_at_field()


class Budget(SQLModel, table=True):
    __tablename__ = "budgets"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", ondelete="CASCADE")
    period: str = Field(default="monthly", max_length=20)  # daily | monthly
    soft_limit_usd: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 2))  # warn + downgrade
    hard_limit_usd: Decimal | None = Field(default=None, sa_type=sa.Numeric(12, 2))  # refuse new calls
    downgrade: dict[str, Any] = json_field()  # {"llm": "local", "stt": "local-whisper"}
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
