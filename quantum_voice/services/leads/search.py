"""Finding leads by the search box: any part of a name, email, company or phone number, and words said in
their calls.

Both go through indexes the database keeps in step itself, so no write path can forget them: over transcript turns
(migration 0006: SQLite FTS5 with triggers, PostgreSQL a GIN index on ``to_tsvector``) and over each lead's
contact text (migration 0008: SQLite FTS5 with the trigram tokenizer, PostgreSQL ``pg_trgm``). None is a model
object: ``include_in_autogenerate`` keeps Alembic's model comparison from reporting them.
"""

from __future__ import annotations

import re

from sqlalchemy import Select, func, literal_column, or_, select, text
from sqlmodel import col

from quantum_voice.models.calls import Conversation, TranscriptTurn
from quantum_voice.models.leads import Lead

SQLITE_TABLE = "transcript_turns_fts"
POSTGRES_INDEX = "ix_transcript_turns_search"
SQLITE_CONTACT_TABLE = "leads_contact_fts"
POSTGRES_CONTACT_INDEX = "ix_leads_contact_search"
TRIGRAM = 3  # the shortest text the contact indexes can find; shorter searches read every lead
MAX_TERMS = 8
MAX_QUERY_CHARS = 200


def include_in_autogenerate(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic ``include_name`` hook: leave the transcript index objects out of model comparisons."""
    if not name:
        return True
    if type_ == "table":
        return not name.startswith((SQLITE_TABLE, SQLITE_CONTACT_TABLE))
    return name not in (POSTGRES_INDEX, POSTGRES_CONTACT_INDEX)


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


def _contact_text(row: str = "") -> str:
    """A lead's searchable contact text as SQL: name, email and company in lower case, and the phone's digits.
    The very expression migration 0008 indexes (PostgreSQL uses the index only for the same expression)."""
    digits = f"coalesce({row}phone, '')"
    for mark in (" ", "-", "+", "(", ")", "."):
        digits = f"replace({digits}, '{mark}', '')"
    return (f"lower(coalesce({row}name, '') || ' ' || coalesce({row}email, '') || ' ' || "
            f"coalesce({row}company, '')) || ' ' || {digits}")


def leads_contacted_as(dialect: str, organization_id: int, query: str) -> Select | None:
    """Ids of the organisation's leads whose name, email or company holds ``query`` (any case), or, for a query of
    digits, whose phone holds them however either is written. ``None`` when the query is empty."""
    query = " ".join(query.split())[:MAX_QUERY_CHARS].lower()
    if not query:
        return None
    digits = re.sub(r"\D", "", query)
    phone_like = len(digits) >= TRIGRAM and not re.search(r"[^\d\s+().-]", query)
    needles = [digits] if phone_like else [query]
    ids = select(Lead.id).where(col(Lead.organization_id) == organization_id)
    if dialect != "postgresql" and all(len(n) >= TRIGRAM for n in needles):
        match = " OR ".join('"' + n.replace('"', '""') + '"' for n in needles)
        return ids.where(col(Lead.id).in_(text(
            f"SELECT rowid FROM {SQLITE_CONTACT_TABLE} WHERE {SQLITE_CONTACT_TABLE} MATCH :contact"
        ).bindparams(contact=match)))
    # PostgreSQL's trigram index serves this very expression; on SQLite a search this short reads the leads
    return ids.where(or_(*[text(f"({_contact_text('leads.')}) LIKE :n{i} ESCAPE '\\'").bindparams(
        **{f"n{i}": f"%{_escape_like(n)}%"}) for i, n in enumerate(needles)]))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
