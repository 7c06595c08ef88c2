"""idempotent_requests: POSTs sent with an Idempotency-Key, and their stored 2xx response (api/idempotency.py)

Revision ID: 0012_idempotent_requests
Revises: 0011_webhooks
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import quantum_voice.models.base

revision: str = "0012_idempotent_requests"
down_revision: Union[str, None] = "0011_webhooks"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_UTC = quantum_voice.models.base.UTCDateTime
_Str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "idempotent_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("caller", _Str(length=40), nullable=False),
        sa.Column("method", _Str(length=10), nullable=False),
        sa.Column("path", _Str(length=500), nullable=False),
        sa.Column("idempotency_key", _Str(length=255), nullable=False),
        sa.Column("request_hash", _Str(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=False),
        sa.Column("created_at", _UTC(), nullable=False),
        sa.Column("expires_at", _UTC(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_idempotent_requests_organization_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_requests")),
        sa.UniqueConstraint("organization_id", "caller", "method", "path", "idempotency_key",
                            name="uq_idempotent_requests_caller_key"),
    )
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.create_index(batch.f("ix_idempotent_requests_organization_id"), ["organization_id"], unique=False)
        batch.create_index("ix_idempotent_requests_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("idempotent_requests")
