"""Per-organisation settings for Slack, Asana, email and the optional AI providers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import created_at_field, json_field, org_fk


class IntegrationSetting(SQLModel, table=True):
    __tablename__ = "integration_settings"
    __table_args__ = (sa.UniqueConstraint("organization_id", "provider", name="uq_integration_org_provider"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    provider: str = Field(max_length=40)  # slack | asana | email | resend | deepgram | openai | gemini | tavily
    enabled: bool = Field(default=False)
    config: dict[str, Any] = json_field()  # non-secret options: channel, project id, score bands...
    secret_ciphertext: str | None = Field(default=None, sa_type=sa.Text)  # encrypted with SECRET_KEY
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
