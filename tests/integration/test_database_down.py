"""When the database is unreachable the API says so clearly (503) instead of failing obscurely."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import create_engine

from quantum_voice.api import create_api
from quantum_voice.core import db as db_mod


def test_api_answers_503_with_advice_when_the_database_is_unreachable(tmp_path):
    # A PostgreSQL URL on a port where nothing listens: every connection attempt fails at once.
    db_mod.set_engine(create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none",
                                    connect_args={"connect_timeout": 2}))
    try:
        client = TestClient(create_api(), raise_server_exceptions=False)
        r = client.post("/api/auth/login", json={"email": "a@example.com", "password": "whatever-password"})
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "database_unavailable"
        assert "try again" in r.json()["error"]["message"]
        assert r.headers["retry-after"] == "5"
        health = client.get("/api/health")
        assert health.status_code == 503
        assert health.json()["components"]["database"]["status"] == "error"
    finally:
        db_mod.set_engine(None)


def test_postgresql_statements_and_idle_transactions_have_a_time_budget(engine, monkeypatch):
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from quantum_voice.core.config import reset_settings
    from quantum_voice.core.db import make_engine

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no statement timeout; its busy_timeout bounds the wait for a lock")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "200")
    reset_settings()
    budgeted = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with budgeted.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "200ms"
            assert conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar() == "1min"
            with pytest.raises(OperationalError, match="statement timeout"):
                conn.execute(text("SELECT pg_sleep(2)"))
    finally:
        budgeted.dispose()
