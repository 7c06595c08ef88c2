"""handoff queue: the waiting callers in order, and when each agent's idle spell began

- ``handoffs``: index ``ix_handoffs_org_status_requested`` (organization_id, status, requested_at) for the queue
  (an organisation's waiting hand-offs, oldest first) and for expiring the unanswered ones;
- ``agent_presence.status_since``: when the agent's status last changed, so routing can prefer the agent idle the
  longest (``services/handoffs/routing.py``).

Revision ID: 0009_handoff_queue
Revises: 0008_lead_contact_search
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from quantum_voice.models.base import UTCDateTime

revision: str = "0009_handoff_queue"
down_revision: Union[str, None] = "0008_lead_contact_search"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_handoffs_org_status_requested", "handoffs", ["organization_id", "status", "requested_at"])
    op.add_column("agent_presence", sa.Column("status_since", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent_presence") as batch:
        batch.drop_column("status_since")
    op.drop_index("ix_handoffs_org_status_requested", table_name="handoffs")
