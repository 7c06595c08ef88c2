"""chunks: embeddings of the sentences an answer can be made of

One nullable column: the MiniLM vectors (float16, little-endian, one per spoken unit of the chunk, in order) that
the extractive answerer compares with a question, computed when the document is processed so a caller's question
does not wait for them. Chunks processed before this revision have none; the answerer embeds theirs on the fly.

Revision ID: 0005_chunk_unit_vectors
Revises: 0004_voice_worker_media_url
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005_chunk_unit_vectors"
down_revision: Union[str, None] = "0004_voice_worker_media_url"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("chunks", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("unit_vectors", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chunks", recreate="never") as batch_op:  # SQLite ≥ 3.35 drops in place
        batch_op.drop_column("unit_vectors")
