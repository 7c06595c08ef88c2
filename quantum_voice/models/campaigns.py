"""Campaigns and the QR codes that lead callers to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import StrEnum, created_at_field, json_field, org_fk, ts_field


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    PAUSED = "paused"
    ARCHIVED = "archived"


class Campaign(SQLModel, table=True):
    __tablename__ = "campaigns"
    __table_args__ = (sa.Index("ix_campaigns_org_status", "organization_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    name: str = Field(max_length=200)
    slug: str = Field(max_length=120, unique=True, index=True)  # public call link /call/{slug}
    description: str = Field(default="", sa_type=sa.Text)
    target_audience: str = Field(default="", max_length=500)
    status: str = Field(default=CampaignStatus.DRAFT.value, max_length=20)
    flow_id: int | None = Field(default=None, foreign_key="flows.id", ondelete="SET NULL")
    knowledge_base_id: int | None = Field(default=None, foreign_key="knowledge_bases.id", ondelete="SET NULL")
    greeting: str = Field(default="", sa_type=sa.Text)
    brand_color: str = Field(default="#6E56CF", max_length=20)
    logo_url: str | None = Field(default=None, max_length=500)
    privacy_wording: str = Field(default="", sa_type=sa.Text)
    privacy_policy_version: str = Field(default="1", max_length=40)
    max_call_seconds: int = Field(default=900)
    settings: dict[str, Any] = json_field()
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    deleted_at: datetime | None = ts_field()


class QRCode(SQLModel, table=True):
    __tablename__ = "qr_codes"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    campaign_id: int = Field(foreign_key="campaigns.id", index=True, ondelete="CASCADE")
    label: str = Field(default="default", max_length=120)  # where it is printed: "yard sign", "flyer"
    code: str = Field(max_length=32, unique=True, index=True)  # short token in the scan URL
    scan_count: int = Field(default=0)
    created_at: datetime = created_at_field()


class QRScanEvent(SQLModel, table=True):
    __tablename__ = "qr_scan_events"
    __table_args__ = (sa.Index("ix_qr_scans_campaign_time", "campaign_id", "scanned_at"),
                      sa.Index("ix_qr_scans_org_time", "organization_id", "scanned_at"))  # analytics' funnel

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    qr_code_id: int = Field(foreign_key="qr_codes.id", index=True, ondelete="CASCADE")
    campaign_id: int = Field(foreign_key="campaigns.id", ondelete="CASCADE")
    scanned_at: datetime = created_at_field()
    user_agent: str | None = Field(default=None, max_length=400)
    ip_hash: str | None = Field(default=None, max_length=64)  # hashed: counting, not tracking
    referrer: str | None = Field(default=None, max_length=500)
