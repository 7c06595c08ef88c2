"""full-text index over knowledge chunks

SQLite: an FTS5 table ``chunks_fts`` (external content = ``chunks``) kept in step by triggers.
PostgreSQL: a generated ``tsvector`` column ``chunks.search_vector`` with a GIN index.
Neither is a SQLModel table or column; ``quantum_voice.services.knowledge.fulltext.include_in_autogenerate``
keeps autogenerate from proposing to drop them.

Careful on SQLite: a later ``batch_alter_table('chunks')`` recreates the table and drops these triggers; such a
migration must re-create them (the statements of ``_SQLITE_UP``).

Revision ID: 0002_knowledge_fulltext
Revises: 0001_initial
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0002_knowledge_fulltext"
down_revision: Union[str, None] = "0001_initial"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE chunks_fts USING fts5(section, text, content='chunks', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    """CREATE TRIGGER chunks_fts_after_insert AFTER INSERT ON chunks BEGIN
         INSERT INTO chunks_fts(rowid, section, text) VALUES (new.id, new.section, new.text);
       END""",
    """CREATE TRIGGER chunks_fts_after_delete AFTER DELETE ON chunks BEGIN
         INSERT INTO chunks_fts(chunks_fts, rowid, section, text) VALUES ('delete', old.id, old.section, old.text);
       END""",
    """CREATE TRIGGER chunks_fts_after_update AFTER UPDATE OF text, section ON chunks BEGIN
         INSERT INTO chunks_fts(chunks_fts, rowid, section, text) VALUES ('delete', old.id, old.section, old.text);
         INSERT INTO chunks_fts(rowid, section, text) VALUES (new.id, new.section, new.text);
       END""",
    "INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS chunks_fts_after_update",
    "DROP TRIGGER IF EXISTS chunks_fts_after_delete",
    "DROP TRIGGER IF EXISTS chunks_fts_after_insert",
    "DROP TABLE IF EXISTS chunks_fts",
]
_POSTGRES_UP = [
    "ALTER TABLE chunks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(section, '')), 'B') || "
    "setweight(to_tsvector('english', text), 'A')) STORED",
    "CREATE INDEX ix_chunks_search_vector ON chunks USING gin (search_vector)",
]
_POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_chunks_search_vector",
    "ALTER TABLE chunks DROP COLUMN IF EXISTS search_vector",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_UP)
    elif dialect == "postgresql":
        _run(_POSTGRES_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(_POSTGRES_DOWN)
