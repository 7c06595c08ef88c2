"""leads workspace: one lead per person, the pipeline's history, notes, transcript search

- ``conversations.lead_id``: the lead a call belongs to (a person's several calls are one lead); no foreign key,
  see the model.
- ``leads``: ``owner_user_id`` becomes ``assignee_user_id``; ``is_test`` (copied from the lead's call) and
  ``erased_at`` (also on ``consent_records``, which stay as the legal record); statuses move to the pipeline
  new → contacted → qualified → won / lost.
- ``lead_activities``: status changes, assignments, notes, merges, notifications, exports, erasure.
- Full-text index over transcript turns: SQLite FTS5 ``transcript_turns_fts`` (external content, kept in step by
  triggers); PostgreSQL a GIN index on ``to_tsvector('simple', text)``. Neither is a model object
  (``quantum_voice.services.leads.search.include_in_autogenerate``).

Revision ID: 0006_leads_workspace
Revises: 0005_chunk_unit_vectors
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from quantum_voice.models.base import UTCDateTime

revision: str = "0006_leads_workspace"
down_revision: Union[str, None] = "0005_chunk_unit_vectors"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE transcript_turns_fts USING fts5(text, content='transcript_turns', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    """CREATE TRIGGER transcript_turns_fts_after_insert AFTER INSERT ON transcript_turns BEGIN
         INSERT INTO transcript_turns_fts(rowid, text) VALUES (new.id, new.text);
       END""",
    """CREATE TRIGGER transcript_turns_fts_after_delete AFTER DELETE ON transcript_turns BEGIN
         INSERT INTO transcript_turns_fts(transcript_turns_fts, rowid, text) VALUES ('delete', old.id, old.text);
       END""",
    """CREATE TRIGGER transcript_turns_fts_after_update AFTER UPDATE OF text ON transcript_turns BEGIN
         INSERT INTO transcript_turns_fts(transcript_turns_fts, rowid, text) VALUES ('delete', old.id, old.text);
         INSERT INTO transcript_turns_fts(rowid, text) VALUES (new.id, new.text);
       END""",
    "INSERT INTO transcript_turns_fts(transcript_turns_fts) VALUES ('rebuild')",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS transcript_turns_fts_after_update",
    "DROP TRIGGER IF EXISTS transcript_turns_fts_after_delete",
    "DROP TRIGGER IF EXISTS transcript_turns_fts_after_insert",
    "DROP TABLE IF EXISTS transcript_turns_fts",
]
_POSTGRES_UP = ["CREATE INDEX ix_transcript_turns_search ON transcript_turns USING gin (to_tsvector('simple', text))"]
_POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_transcript_turns_search"]
_STATUS_UP = {"not_interested": "lost", "callback_scheduled": "contacted", "converted": "won"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("leads", recreate="never") as batch_op:
        batch_op.alter_column("owner_user_id", new_column_name="assignee_user_id")
        batch_op.add_column(sa.Column("is_test", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("erased_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("leads", recreate="never") as batch_op:
        batch_op.create_index("ix_leads_org_test_created", ["organization_id", "is_test", "created_at"])
        batch_op.create_index("ix_leads_org_assignee", ["organization_id", "assignee_user_id"])
        batch_op.create_index("ix_leads_org_phone", ["organization_id", "phone"])
    with op.batch_alter_table("conversations", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("lead_id", sa.Integer(), nullable=True))  # no foreign key: see the model
    with op.batch_alter_table("consent_records", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("erased_at", UTCDateTime(), nullable=True))
    op.create_index("ix_conversations_lead_id", "conversations", ["lead_id"])
    # UPDATE … FROM (SQLite ≥ 3.33): one join, not a subquery per call (leads.conversation_id has no index)
    op.execute("UPDATE conversations SET lead_id = l.id FROM leads l WHERE l.conversation_id = conversations.id")
    op.execute("UPDATE leads SET is_test = COALESCE((SELECT c.is_test FROM conversations c "
               "WHERE c.id = leads.conversation_id), is_test)")
    for old, new in _STATUS_UP.items():
        op.execute(sa.text("UPDATE leads SET status = :new WHERE status = :old").bindparams(old=old, new=new))
    op.create_table(
        "lead_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], name=op.f("fk_lead_activities_actor_user_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_activities_lead_id_leads"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_lead_activities_organization_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_activities")),
    )
    op.create_index("ix_lead_activities_lead_time", "lead_activities", ["lead_id", "created_at"])
    op.create_index(op.f("ix_lead_activities_organization_id"), "lead_activities", ["organization_id"])
    for statement in _SQLITE_UP if dialect == "sqlite" else _POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_DOWN if dialect == "sqlite" else _POSTGRES_DOWN:
        op.execute(statement)
    op.drop_table("lead_activities")
    op.drop_index("ix_conversations_lead_id", table_name="conversations")
    with op.batch_alter_table("consent_records", recreate="never") as batch_op:
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("conversations", recreate="never") as batch_op:
        batch_op.drop_column("lead_id")
    for old, new in _STATUS_UP.items():
        op.execute(sa.text("UPDATE leads SET status = :old WHERE status = :new").bindparams(old=old, new=new))
    with op.batch_alter_table("leads", recreate="never") as batch_op:
        batch_op.drop_index("ix_leads_org_phone")
        batch_op.drop_index("ix_leads_org_assignee")
        batch_op.drop_index("ix_leads_org_test_created")
        batch_op.drop_column("erased_at")
        batch_op.drop_column("is_test")
        batch_op.alter_column("assignee_user_id", new_column_name="owner_user_id")
