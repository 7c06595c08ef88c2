"""Database engine and sessions. SQLite by default, PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from quantum_voice.core.config import get_settings
from quantum_voice.core.storable import guard_forms

guard_forms()

_engine: Engine | None = None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str, *, time_budget: bool = True) -> Engine:
    """Build an engine for ``url`` with the settings each backend needs. ``time_budget``: on PostgreSQL, a
    statement runs at most ``DB_STATEMENT_TIMEOUT_MS`` and a transaction may sit idle (holding its locks) at most
    ``DB_IDLE_IN_TRANSACTION_TIMEOUT_MS``, so no request can hold the database for minutes (migrations opt out).
    SQLite waits ``busy_timeout`` for a lock, then the request fails and says so."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {}
    if time_budget and parsed.get_backend_name() == "postgresql":
        settings = get_settings()
        idle = settings.db_idle_in_transaction_timeout_ms
        connect_args["options"] = (f"-c statement_timeout={settings.db_statement_timeout_ms} "
                                   f"-c idle_in_transaction_session_timeout={idle}")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args)


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = make_engine(get_settings().effective_database_url)
    return _engine


def set_engine(engine: Engine | None) -> None:
    """Point the app at another engine (tests, CLI); ``None`` forgets the current one."""
    global _engine
    if _engine is not None and engine is not _engine:
        _engine.dispose()
    _engine = engine


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
