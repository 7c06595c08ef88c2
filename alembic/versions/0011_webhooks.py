"""webhooks: encrypted signing secrets, failure tracking, delivery leases and the per-attempt delivery log

- ``webhooks.signing_secret`` becomes text (it holds the secret encrypted by core/secretbox.py); ``secret_hint``
  shows its first characters; ``failing_since`` and ``disabled_at`` carry the automatic disabling;
  ``created_by_id`` who made the endpoint. No endpoint existed before this revision (nothing used the table).
- ``webhook_deliveries.lease_until`` (a worker's claim) and ``first_attempt_at`` (retries stop 24 h after it).
- ``webhook_attempts``: one row per try of a delivery (status code, response excerpt, error, duration).

Revision ID: 0011_webhooks
Revises: 0010_api_keys
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import quantum_voice.models.base

revision: str = "0011_webhooks"
down_revision: Union[str, None] = "0010_api_keys"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_UTC = quantum_voice.models.base.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.alter_column("signing_secret", existing_type=sqlmodel.sql.sqltypes.AutoString(length=128),
                           type_=sa.Text(), existing_nullable=False)
        batch.add_column(sa.Column("secret_hint", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("failing_since", _UTC(), nullable=True))
        batch.add_column(sa.Column("disabled_at", _UTC(), nullable=True))
        batch.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_webhooks_created_by_id_users", "users", ["created_by_id"], ["id"],
                                 ondelete="SET NULL")
    with op.batch_alter_table("webhooks") as batch:
        batch.alter_column("secret_hint", server_default=None)
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("lease_until", _UTC(), nullable=True))
        batch.add_column(sa.Column("first_attempt_at", _UTC(), nullable=True))
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("attempted_at", _UTC(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_webhook_attempts_organization_id_organizations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_deliveries.id"],
                                name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts") as batch:
        batch.create_index(batch.f("ix_webhook_attempts_organization_id"), ["organization_id"], unique=False)
        batch.create_index(batch.f("ix_webhook_attempts_delivery_id"), ["delivery_id"], unique=False)


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("first_attempt_at")
        batch.drop_column("lease_until")
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_constraint("fk_webhooks_created_by_id_users", type_="foreignkey")
        batch.drop_column("created_by_id")
        batch.drop_column("disabled_at")
        batch.drop_column("failing_since")
        batch.drop_column("secret_hint")
        batch.alter_column("signing_secret", existing_type=sa.Text(),
                           type_=sqlmodel.sql.sqltypes.AutoString(length=128), existing_nullable=False)
