"""Database engine and sessions. SQLite by default, PostgreSQL when DATABASE_URL says so.

A SQLite database file holds live secrets (password-reset and invitation links in the outbox, sessions): it is
kept owner-only. Its file is created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the
database file's mode), an existing one is tightened to 0600, and a directory created for it is 0700 (so is the
app's DATA_DIR when the database lives there).

SQLite lets one transaction write at a time. A write transaction begins with ``BEGIN IMMEDIATE`` at its first write
(as the driver would begin it, but taking the write lock at once, so the busy timeout applies: a deferred
transaction that read first and then writes fails at once, without waiting, when another holds the lock), and
the writers of this process take turns for it first come, first served (``WriterQueue``): only the head of the
queue waits in SQLite's busy handler, which polls and favours no one, for writers of other processes (the voice
sidecar, job workers). Reads never wait: WAL lets them run beside the writer. Either wait lasts at most
``DB_STATEMENT_TIMEOUT_MS``, PostgreSQL's time budget for a statement; then the request fails and says so
(docs/operations.md, "SQLite or PostgreSQL")."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from collections import deque
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


# The statements before which the driver (pysqlite, legacy transaction control) opens a transaction, and SAVEPOINT,
# which opens one itself when none is open. Reads and DDL run outside transactions, as the driver runs them.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")
# SQLite file connections are cheap: enough for every request thread, job and knowledge-search worker, so none
# waits for a connection while holding the write lock (the pool's default, 5 + 10, made them).
SQLITE_POOL_SIZE, SQLITE_MAX_OVERFLOW = 10, 90


class WriterQueue:
    """The writers of one SQLite database in this process, served one at a time in arrival order. A slot is held
    by a DBAPI connection from its transaction's first write to its COMMIT or ROLLBACK."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: deque[object] = deque()
        self._holder: object | None = None

    def acquire(self, connection: object, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until ``connection`` is the one writer; False when the time ran out."""
        with self._changed:
            ticket = object()
            self._waiting.append(ticket)
            deadline = time.monotonic() + timeout
            while self._holder is not None or self._waiting[0] is not ticket:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._waiting.remove(ticket)
                    self._changed.notify_all()
                    return False
                self._changed.wait(remaining)
            self._waiting.popleft()
            self._holder = connection
            return True

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def release(self, connection: object) -> None:
        with self._changed:
            if self._holder is connection:
                self._holder = None
                self._changed.notify_all()


def _raw(connection):
    """The sqlite3 connection behind a pool's proxy (the pool's reset hands the dialect its proxy)."""
    return getattr(connection, "dbapi_connection", None) or connection


def _sqlite_pragmas(wait_ms: int):
    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
        cursor.close()
    return on_connect


def _one_writer_at_a_time(engine: Engine, wait_ms: int) -> None:
    """Begin each write transaction with BEGIN IMMEDIATE after a turn in this process's ``WriterQueue``; give the
    turn back right after the transaction's COMMIT or ROLLBACK (or when its connection is closed or lost)."""
    writers = WriterQueue()
    engine.sqlite_writers = writers  # type: ignore[attr-defined]  # for tests and benchmarks to look at

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_write(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        raw = _raw(conn.connection)
        if raw.in_transaction or raw.isolation_level is None or not statement.lstrip()[:9].upper().startswith(
                _WRITES):
            return
        deadline = time.monotonic() + wait_ms / 1000  # one budget for both waits: this process's, then SQLite's
        if not writers.acquire(raw, wait_ms / 1000):
            raise sqlite3.OperationalError(f"database is locked (waited {wait_ms / 1000:.0f} s for the other "
                                           "writers of this process)")
        try:
            left_ms = max(1, int((deadline - time.monotonic()) * 1000))
            raw.execute(f"PRAGMA busy_timeout={left_ms}")
            try:
                raw.execute("BEGIN IMMEDIATE")  # waits what is left for other processes' writers
            finally:
                raw.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
        except BaseException:
            writers.release(raw)
            raise

    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection) -> None:
        try:
            commit(dbapi_connection)
        finally:
            writers.release(_raw(dbapi_connection))

    def do_rollback(dbapi_connection) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            writers.release(_raw(dbapi_connection))

    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback  # this engine's own dialect instance

    def _forget(dbapi_connection, *_args) -> None:
        writers.release(_raw(dbapi_connection))

    for name in ("checkin", "close", "close_detached", "invalidate"):
        event.listen(engine.pool, name, _forget)


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
    SQLite: a writer waits its turn at most ``DB_STATEMENT_TIMEOUT_MS``, then the request fails and says so."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        wait_ms = get_settings().db_statement_timeout_ms
        options: dict = {"connect_args": {"check_same_thread": False, "timeout": wait_ms / 1000}}
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _private_sqlite_file(Path(parsed.database))
            options.update(pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_MAX_OVERFLOW)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas(wait_ms))
        _one_writer_at_a_time(engine, wait_ms)
        return engine
    connect_args = {}
    if time_budget and parsed.get_backend_name() == "postgresql":
        settings = get_settings()
        idle = settings.db_idle_in_transaction_timeout_ms
        connect_args["options"] = (f"-c statement_timeout={settings.db_statement_timeout_ms} "
                                   f"-c idle_in_transaction_session_timeout={idle}")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args)


# A sync route's response is serialised in one of anyio's worker threads (40 by default) before its request's
# transaction commits (FastAPI's order): were every thread taken by a request waiting for the write lock, the one
# holding it could not finish, and all would wait until their time ran out (issue 19's 503s at 50 requests).
REQUEST_THREADS = 400


def make_room_for_waiting_requests(threads: int = REQUEST_THREADS) -> None:
    """Let this many requests wait for the database at once (for SQLite's write lock, PostgreSQL's row locks or a
    pooled connection). Call it in the server's event loop: a lifespan task of the app. A waiting request costs an
    idle thread; threads are started only when needed."""
    import anyio.to_thread

    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = max(limiter.total_tokens, threads)


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
