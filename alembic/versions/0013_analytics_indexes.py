"""analytics indexes: the dashboard's range queries on knowledge questions, consent tickets and QR scans

The dashboard (``services/analytics/``) reads each of these tables by organisation and a range of days. Without an
index on the two together every read scanned the whole table (``bench/dashboard.py``):

- ``knowledge_queries (organization_id, created_at)``: the answer rate and the unanswered questions;
- ``consent_records (organization_id, created_at)``: the funnel's email gate;
- ``qr_scan_events (organization_id, scanned_at)``: the funnel's QR scans.

Plain b-tree indexes on both databases, declared in the models too.

Revision ID: 0013_analytics_indexes
Revises: 0012_idempotent_requests
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0013_analytics_indexes"
down_revision: Union[str, None] = "0012_idempotent_requests"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

INDEXES = (
    ("ix_knowledge_queries_org_time", "knowledge_queries", ["organization_id", "created_at"]),
    ("ix_consent_records_org_time", "consent_records", ["organization_id", "created_at"]),
    ("ix_qr_scans_org_time", "qr_scan_events", ["organization_id", "scanned_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
