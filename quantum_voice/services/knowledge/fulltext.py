"""Full-text search over chunks: SQLite FTS5 (BM25) or PostgreSQL tsvector with a GIN index.

The index objects are made by migration 0002 and kept in step with ``chunks`` by the database itself (triggers
on SQLite, a generated column on PostgreSQL), so no code path can forget to update them. They are not SQLModel
tables: ``include_in_autogenerate`` keeps Alembic's model comparison from reporting them.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlmodel import Session

from quantum_voice.services.knowledge.text import content_terms
from quantum_voice.services.knowledge.wording import SYNONYMS

SQLITE_TABLE = "chunks_fts"
POSTGRES_COLUMN = "search_vector"
POSTGRES_INDEX = "ix_chunks_search_vector"
MAX_TERMS = 24

_SQLITE_QUERY = text(f"""
    SELECT c.id, bm25({SQLITE_TABLE}, 0.5, 1.0) AS rank
    FROM {SQLITE_TABLE} JOIN chunks c ON c.id = {SQLITE_TABLE}.rowid
    JOIN documents d ON d.id = c.document_id AND d.status = 'ready'
    WHERE {SQLITE_TABLE} MATCH :query AND c.knowledge_base_id = :kb AND c.organization_id = :org
    ORDER BY rank LIMIT :limit
""")
_POSTGRES_QUERY = text(f"""
    SELECT c.id, ts_rank(c.{POSTGRES_COLUMN}, q, 1) AS rank
    FROM chunks c JOIN documents d ON d.id = c.document_id AND d.status = 'ready', to_tsquery('english', :query) q
    WHERE c.knowledge_base_id = :kb AND c.organization_id = :org AND c.{POSTGRES_COLUMN} @@ q
    ORDER BY rank DESC LIMIT :limit
""")


def search_terms(question: str) -> list[str]:
    """The question's meaningful words, then the words documents use for them (``wording.SYNONYMS``: "fix" also
    finds "repair"), reduced to characters every full-text syntax accepts."""
    asked = content_terms(question)
    words = asked + [synonym for term in asked for synonym in SYNONYMS.get(term, ())]
    terms = [re.sub(r"[^a-z0-9]", "", t) for t in dict.fromkeys(words)]
    return [t for t in terms if t][:MAX_TERMS]


def fulltext_search(session: Session, *, organization_id: int, knowledge_base_id: int, question: str,
                    limit: int = 50) -> list[int]:
    """Chunk ids of ready documents matching any word of ``question``, best first (BM25 on SQLite, ts_rank on
    PostgreSQL)."""
    terms = search_terms(question)
    if not terms:
        return []
    params = {"kb": knowledge_base_id, "org": organization_id, "limit": limit}
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(_POSTGRES_QUERY, {**params, "query": " | ".join(terms)})
    else:
        rows = session.execute(_SQLITE_QUERY, {**params, "query": " OR ".join(f'"{t}"' for t in terms)})
    return [int(row[0]) for row in rows]


def include_in_autogenerate(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic ``include_name`` hook: leave the full-text index objects out of model comparisons."""
    if not name:
        return True
    if type_ == "table":
        return not name.startswith(SQLITE_TABLE)
    return name not in (POSTGRES_COLUMN, POSTGRES_INDEX)
