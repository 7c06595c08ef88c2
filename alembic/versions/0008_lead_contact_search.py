"""lead contact search: any part of a name, email, company or phone number without reading every lead

The lead list's search box matches any part of those fields (``services/leads/search.py``); a ``LIKE '%…%'`` over
100,000 leads read them all. Now:

- SQLite: an FTS5 table ``leads_contact_fts`` with the trigram tokenizer (substring matches of 3+ characters use
  the index), one row per lead (rowid = lead id) holding the lead's searchable text, kept in step by triggers;
- PostgreSQL: ``pg_trgm`` and a GIN trigram index on the same text as an expression.

The searchable text is name, email and company in lower case, and the phone number's digits. Neither object is a
model (``services.leads.search.include_in_autogenerate``).

Revision ID: 0008_lead_contact_search
Revises: 0007_lead_notifications
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0008_lead_contact_search"
down_revision: Union[str, None] = "0007_lead_notifications"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _text(row: str) -> str:
    """The searchable text of a lead, as SQL (the same on SQLite and PostgreSQL)."""
    digits = f"coalesce({row}phone, '')"
    for mark in (" ", "-", "+", "(", ")", "."):
        digits = f"replace({digits}, '{mark}', '')"
    return (f"lower(coalesce({row}name, '') || ' ' || coalesce({row}email, '') || ' ' || "
            f"coalesce({row}company, '')) || ' ' || {digits}")


_SQLITE_UP = [
    "CREATE VIRTUAL TABLE leads_contact_fts USING fts5(doc, tokenize='trigram')",
    f"""CREATE TRIGGER leads_contact_fts_after_insert AFTER INSERT ON leads BEGIN
         INSERT INTO leads_contact_fts(rowid, doc) VALUES (new.id, {_text('new.')});
       END""",
    """CREATE TRIGGER leads_contact_fts_after_delete AFTER DELETE ON leads BEGIN
         DELETE FROM leads_contact_fts WHERE rowid = old.id;
       END""",
    f"""CREATE TRIGGER leads_contact_fts_after_update AFTER UPDATE OF name, email, company, phone ON leads BEGIN
         DELETE FROM leads_contact_fts WHERE rowid = old.id;
         INSERT INTO leads_contact_fts(rowid, doc) VALUES (new.id, {_text('new.')});
       END""",
    f"INSERT INTO leads_contact_fts(rowid, doc) SELECT id, {_text('')} FROM leads",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS leads_contact_fts_after_update",
    "DROP TRIGGER IF EXISTS leads_contact_fts_after_delete",
    "DROP TRIGGER IF EXISTS leads_contact_fts_after_insert",
    "DROP TABLE IF EXISTS leads_contact_fts",
]
_POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX ix_leads_contact_search ON leads USING gin (({_text('')}) gin_trgm_ops)",
]
_POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_leads_contact_search"]  # pg_trgm stays: others may use it


def upgrade() -> None:
    for statement in _SQLITE_UP if op.get_bind().dialect.name == "sqlite" else _POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in _SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else _POSTGRES_DOWN:
        op.execute(statement)
