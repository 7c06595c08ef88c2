"""Database engine and sessions. SQLite by default, PostgreSQL when DATABASE_URL says so.

A SQLite database file holds live secrets (password-reset and invitation links in the outbox, sessions): it is
kept owner-only. Its file is created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the
database file's mode), an existing one is tightened to 0600, and a directory created for it is 0700 (so is the
app's DATA_DIR when the database lives there)."""

from __future__ import annotations

import os
import stat
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


def _private_sqlite_file(path: Path) -> None:
    """The database file (and its -wal/-shm), owner-only; its directory 0700 when created here or the data dir."""
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)  # mkdir's mode is masked by the umask
    elif directory.resolve() == get_settings().data_dir.resolve():
        _tighten(directory, 0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # an empty file is a new database
    except FileExistsError:
        pass
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
                 path.with_name(path.name + "-journal")):
        if file.exists():
            _tighten(file, 0o600)


def _tighten(path: Path, mode: int) -> None:
    """Take away what ``mode`` does not allow (never adds); a file owned by someone else is left alone."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current & ~mode:
            path.chmod(current & mode)
    except OSError:
        pass


def make_engine(url: str, *, time_budget: bool = True) -> Engine:
    """Build an engine for ``url`` with the settings each backend needs. ``time_budget``: on PostgreSQL, a
    statement runs at most ``DB_STATEMENT_TIMEOUT_MS`` and a transaction may sit idle (holding its locks) at most
    ``DB_IDLE_IN_TRANSACTION_TIMEOUT_MS``, so no request can hold the database for minutes (migrations opt out).
    SQLite waits ``busy_timeout`` for a lock, then the request fails and says so."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _private_sqlite_file(Path(parsed.database))
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
