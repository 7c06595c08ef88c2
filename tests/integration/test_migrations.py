from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from quantum_voice.core.db import make_engine
from quantum_voice.core.migrate import downgrade_to_base, upgrade_to_head
from quantum_voice.services.knowledge import fulltext
from quantum_voice.services.leads import search

EXPECTED_TABLES = {
    "organizations", "users", "memberships", "invitations", "email_tokens", "user_sessions", "campaigns", "flows",
    "flow_versions", "qr_codes", "qr_scan_events", "knowledge_bases", "documents", "chunks", "qna_pairs",
    "knowledge_queries", "conversations", "transcript_turns", "consent_records", "leads", "handoffs",
    "agent_presence", "handoff_rules", "api_keys", "webhooks", "webhook_deliveries", "integration_settings",
    "usage_records", "budgets", "system_metrics", "voice_workers", "email_outbox", "audit_logs", "lead_activities",
    "notification_deliveries", "webhook_attempts",
}


def include_in_autogenerate(name, type_, parent_names) -> bool:
    return all(hook(name, type_, parent_names)
               for hook in (fulltext.include_in_autogenerate, search.include_in_autogenerate))


def test_migration_creates_every_table_of_the_product(engine):
    tables = set(inspect(engine).get_table_names())
    assert EXPECTED_TABLES <= tables
    assert "alembic_version" in tables


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_name": include_in_autogenerate}  # full-text objects are not models
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), SQLModel.metadata)
    assert diff == []


def test_org_owned_tables_have_a_cascading_organization_key(engine):
    inspector = inspect(engine)
    for table in EXPECTED_TABLES - {"organizations", "users", "email_tokens", "voice_workers", "user_sessions"}:
        columns = {c["name"] for c in inspector.get_columns(table)}
        if "organization_id" not in columns:
            continue
        fks = [fk for fk in inspector.get_foreign_keys(table) if fk["constrained_columns"] == ["organization_id"]]
        assert fks and fks[0]["referred_table"] == "organizations", table


def test_dashboard_and_lead_search_indexes_exist(engine):
    inspector = inspect(engine)
    lead_indexes = {i["name"] for i in inspector.get_indexes("leads")}
    assert {"ix_leads_org_created", "ix_leads_org_score", "ix_leads_org_band", "ix_leads_org_email"} <= lead_indexes
    assert "ix_conversations_org_started" in {i["name"] for i in inspector.get_indexes("conversations")}
    assert "ix_usage_org_time" in {i["name"] for i in inspector.get_indexes("usage_records")}


def test_downgrade_and_upgrade_round_trip(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade_to_head(url)
    downgrade_to_base(url)
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade_to_head(url)
    engine = make_engine(url)
    assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_analytics_range_indexes_exist(engine):
    inspector = inspect(engine)
    for table, name in (("knowledge_queries", "ix_knowledge_queries_org_time"),
                        ("consent_records", "ix_consent_records_org_time"),
                        ("qr_scan_events", "ix_qr_scans_org_time")):
        assert name in {i["name"] for i in inspector.get_indexes(table)}, table
