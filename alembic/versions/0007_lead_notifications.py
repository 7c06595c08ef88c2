"""lead notifications: the outbox of Slack messages, Asana tasks and emails sent about leads

- ``notification_deliveries``: one row per (lead, channel, band) with its idempotency key (unique), status,
  attempts, next attempt time and the lease of the worker sending it.

Revision ID: 0007_lead_notifications
Revises: 0006_leads_workspace
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from quantum_voice.models.base import UTCDateTime

revision: str = "0007_lead_notifications"
down_revision: Union[str, None] = "0006_leads_workspace"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("band", sa.String(length=10), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("receipt", sa.JSON(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_notification_deliveries_lead_id_leads"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_notification_deliveries_organization_id_organizations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint("idempotency_key", name="uq_notification_deliveries_idempotency_key"),
    )
    op.create_index("ix_notification_deliveries_due", "notification_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_notification_deliveries_lead", "notification_deliveries", ["lead_id"])
    op.create_index(op.f("ix_notification_deliveries_organization_id"), "notification_deliveries",
                    ["organization_id"])


def downgrade() -> None:
    op.drop_table("notification_deliveries")
