"""voice_workers: the media URL where the app opens browser calls on a sidecar

One nullable column, written by the sidecar's heartbeat (``agent/heartbeat.py``) and read when the app picks a
sidecar for a browser call (``quantum_voice/services/media.py``). Added and dropped in place.

Revision ID: 0004_voice_worker_media_url
Revises: 0003_filesearch_sync
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_voice_worker_media_url"
down_revision: Union[str, None] = "0003_filesearch_sync"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("voice_workers", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("media_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("voice_workers", recreate="never") as batch_op:  # SQLite ≥ 3.35 drops in place
        batch_op.drop_column("media_url")
