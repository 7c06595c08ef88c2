"""Finding leads by what was said: full-text search over transcript turns, and the text conditions of the lead
search (name, email, phone, company).

The index is made by migration 0006 and kept in step with ``transcript_turns`` by the database (SQLite FTS5 with
triggers; PostgreSQL a GIN expression index), so no write path can forget it. Neither is a model object:
``include_in_autogenerate`` keeps Alembic's model comparison from reporting them.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select, text
from sqlmodel import col

from quantum_voice.models.calls import Conversation, TranscriptTurn
from quantum_voice.models.leads import Lead

SQLITE_TABLE = "transcript_turns_fts"
POSTGRES_INDEX = "ix_transcript_turns_search"
MAX_TERMS = 8
MAX_QUERY_CHARS = 200


def include_in_autogenerate(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic ``include_name`` hook: leave the transcript index objects out of model comparisons."""
    if not name:
        return True
    if type_ == "table":
        return not name.startswith(SQLITE_TABLE)
    return name != POSTGRES_INDEX


def words_of(query: str) -> list[str]:
    """The query's words, reduced to letters and digits every full-text syntax accepts."""
    words = [re.sub(r"[^\w]", "", w, flags=re.UNICODE) for w in query[:MAX_QUERY_CHARS].lower().split()]
    return [w for w in words if w][:MAX_TERMS]


def leads_said(dialect: str, organization_id: int, query: str) -> Select | None:
    """Ids of the organisation's leads in whose calls every word of ``query`` was said in one turn (each word a
    prefix: "refinanc" finds "refinancing"). ``None`` when the query has no words."""
    words = words_of(query)
    if not words:
        return None
    turns = TranscriptTurn.__table__
    if dialect == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in words)
        matching = select(turns.c.conversation_id).where(
            turns.c.organization_id == organization_id,
            func.to_tsvector(literal_column("'simple'"), turns.c.text).op("@@")(
                func.to_tsquery(literal_column("'simple'"), tsquery)))
    else:
        match = " ".join(f'"{w}"*' for w in words)
        matching = select(turns.c.conversation_id).where(
            turns.c.organization_id == organization_id,
            turns.c.id.in_(text(f"SELECT rowid FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH :match")
                           .bindparams(match=match)))
    return (select(Conversation.lead_id)
            .where(col(Conversation.organization_id) == organization_id, col(Conversation.lead_id).is_not(None),
                   col(Conversation.id).in_(matching)))


def contact_matches(query: str) -> ColumnElement[bool] | None:
    """A lead whose name, email, phone or company holds ``query`` (any case); phone digits match however written."""
    query = query.strip()[:MAX_QUERY_CHARS]
    if not query:
        return None
    like = f"%{_escape_like(query.lower())}%"
    conditions = [func.lower(Lead.name).like(like, escape="\\"), func.lower(Lead.email).like(like, escape="\\"),
                  func.lower(Lead.company).like(like, escape="\\")]
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 3:
        conditions.append(col(Lead.phone).like(f"%{digits}%"))
    return or_(*conditions)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
