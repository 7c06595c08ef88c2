"""Conversation flows: an editable draft and immutable published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from quantum_voice.models.base import UTCDateTime, created_at_field, json_field, org_fk


class Flow(SQLModel, table=True):
    __tablename__ = "flows"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    template_key: str | None = Field(default=None, max_length=60)
    schema_version: int = Field(default=1)
    # {"nodes": [...], "edges": [...], "variables": [...], "scoring": {...}}
    draft: dict[str, Any] = json_field()
    published_version_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("flow_versions.id", use_alter=True, name="fk_flows_published_version", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class FlowVersion(SQLModel, table=True):
    """A published snapshot. Never updated: publishing again makes a new row."""

    __tablename__ = "flow_versions"
    __table_args__ = (sa.UniqueConstraint("flow_id", "version", name="uq_flow_versions_flow_version"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = org_fk()
    flow_id: int = Field(foreign_key="flows.id", index=True, ondelete="CASCADE")
    version: int
    definition: dict[str, Any] = json_field()
    checksum: str = Field(max_length=64)
    published_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    published_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
