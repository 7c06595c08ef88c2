"""documents: where their copy in the optional Gemini File Search store stands

Five new columns on ``documents`` (``services/knowledge/filesearch_sync.py`` writes them). Added and dropped in
place, never by recreating the table: on SQLite a recreated ``documents`` would take its chunks with it (foreign
keys are on, and chunks cascade).

Revision ID: 0003_filesearch_sync
Revises: 0002_knowledge_fulltext
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import quantum_voice.models.base

revision: str = "0003_filesearch_sync"
down_revision: Union[str, None] = "0002_knowledge_fulltext"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_COLUMNS = ("filesearch_status", "filesearch_document", "filesearch_error", "filesearch_attempts",
            "filesearch_updated_at")


def upgrade() -> None:
    with op.batch_alter_table("documents", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("filesearch_status", sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=True))
        batch_op.add_column(sa.Column("filesearch_document", sqlmodel.sql.sqltypes.AutoString(length=500),
                                      nullable=True))
        batch_op.add_column(sa.Column("filesearch_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("filesearch_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("filesearch_updated_at", quantum_voice.models.base.UTCDateTime(),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", recreate="never") as batch_op:  # SQLite ≥ 3.35 drops columns in place
        for column in reversed(_COLUMNS):
            batch_op.drop_column(column)
