"""The database half of a backup: which database is configured, a consistent SQLite copy with the online
backup API, a pg_dump of PostgreSQL, and putting either back."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from quantum_voice.core.config import Settings


STAGING_PREFIX = ".restore-"  # a restore's scratch folder inside the data dir; never archived
_PG_TIMEOUT_SECONDS = 3600  # one pg_dump, pg_restore or psql run
_PG_INSTALL_ROOT = Path("/usr/lib/postgresql")  # Debian keeps each version's client programs in <version>/bin


class BackupError(Exception):
    """A failure the operator can act on: the command line prints it, without a traceback, and exits 1."""


# ---------------------------------------------------------------------------------------------- the database

@dataclass(frozen=True)
class Database:
    """The configured database, as the backup sees it."""

    kind: str  # "sqlite" | "postgresql"
    url: str  # SQLAlchemy URL
    sqlite_path: Path | None = None

    @property
    def label(self) -> str:
        """Where it is, never with a password."""
        if self.sqlite_path is not None:
            return str(self.sqlite_path)
        parsed = make_url(self.url)
        return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"


def configured_database(settings: Settings) -> Database:
    url = settings.effective_database_url
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
            raise BackupError(f"cannot back up the SQLite database {parsed.database!r}: only a database file can be")
        return Database("sqlite", url, Path(parsed.database).resolve())
    if backend == "postgresql":
        return Database("postgresql", url)
    raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")


def _sqlite_files(path: Path) -> list[Path]:
    return [path] + [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _sqlite_revision(path: Path) -> str | None:
    with _sqlite(path) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            return None
    return row[0] if row else None


def _sqlite(path: Path) -> closing[sqlite3.Connection]:
    """A connection that is closed at the end of the ``with`` (sqlite3's own only ends the transaction)."""
    return closing(sqlite3.connect(path, timeout=30))


def snapshot_sqlite(source: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database through its online backup API, as one self-contained file.

    The copy runs in one read transaction: writers go on (WAL mode) and are never blocked by a write lock of ours."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}: nothing to back up (has the app run its migrations?)")
    os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        with _sqlite(source) as src, _sqlite(dest) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # no -wal beside the copy: the archived file is complete
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read the SQLite database {source}: {exc}") from None


def _check_sqlite_file(path: Path) -> None:
    try:
        with _sqlite(path) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"the archive's SQLite database cannot be opened: {exc}") from None
    if not result or result[0] != "ok":
        raise BackupError(f"the archive's SQLite database fails its integrity check: {result}")


def restore_sqlite(staged: Path, target: Path) -> None:
    """Replace ``target`` with ``staged`` atomically: a temp file beside it, then one rename."""
    _check_sqlite_file(staged)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{STAGING_PREFIX}{target.name}-")
    os.close(fd)
    try:
        shutil.copyfile(staged, tmp)
        os.chmod(tmp, 0o600)
        if target.exists():
            # Fold the old database's write-ahead log into it, so no stale -wal can be replayed into the new file.
            try:
                with _sqlite(target) as conn:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass  # not a readable database: nothing of it is worth keeping
        for stale in _sqlite_files(target)[1:]:
            stale.unlink(missing_ok=True)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pg_tool(name: str) -> str:
    """A PostgreSQL client program: on PATH, else the newest under /usr/lib/postgresql/*/bin (Debian's layout)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(_PG_INSTALL_ROOT.glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if candidates:
        return str(candidates[-1])
    raise BackupError(f"{name} was not found: install the PostgreSQL client programs (Debian: postgresql-client, "
                      "a version at least the server's) or put them on PATH")


def _pg_connection(database: Database) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the tools, and their environment; the password travels in the environment
    (never on a command line, where ``ps`` shows it)."""
    from psycopg.conninfo import make_conninfo

    parsed = make_url(database.url)
    params: dict[str, Any] = {"host": parsed.host, "port": parsed.port, "user": parsed.username,
                              "dbname": parsed.database, **dict(parsed.query)}
    conninfo = make_conninfo(**{k: v for k, v in params.items() if v is not None})
    env = dict(os.environ, PGCONNECT_TIMEOUT="10", PGOPTIONS="-c lock_timeout=30s")
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return conninfo, env


def _pg_revision(database: Database) -> str | None:
    """The Alembic revision, and proof that the database answers (before any tool runs)."""
    import psycopg

    conninfo, env = _pg_connection(database)
    try:
        with psycopg.connect(conninfo, password=env.get("PGPASSWORD"), connect_timeout=10) as conn:
            exists = conn.execute("SELECT to_regclass('alembic_version')").fetchone()[0]
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone() if exists else None
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackupError(f"cannot reach the PostgreSQL database {database.label}: {reason}") from None
    return row[0] if row else None


def _run_tool(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=_PG_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} took longer than {_PG_TIMEOUT_SECONDS} s and was stopped") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise BackupError(f"{what} failed: {detail or f'exit status {result.returncode}'}")


def dump_postgres(database: Database, dest: Path) -> None:
    """``pg_dump`` in custom format: one consistent snapshot, taken without locking writers out."""
    conninfo, env = _pg_connection(database)
    _run_tool([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dest}",
               f"--dbname={conninfo}"], env, "pg_dump")
    os.chmod(dest, 0o600)


def restore_postgres(staged: Path, database: Database, scratch: Path) -> None:
    """Put a dump back into the configured database in one transaction: all of it, or (on any error) nothing.

    ``pg_restore --clean --if-exists --no-owner`` writes the SQL; ``psql --single-transaction`` runs it after
    dropping the app's tables first, so tables a newer migration added (absent from an older backup) cannot block
    the migrations that run after the restore."""
    conninfo, env = _pg_connection(database)
    script = scratch / "restore.sql"
    _run_tool([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
               "--exit-on-error", f"--file={script}", str(staged)], env, "pg_restore (reading the dump)")
    preamble = scratch / "preamble.sql"
    preamble.write_text(_drop_app_tables_sql())
    _run_tool([_pg_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
               f"--file={preamble}", f"--file={script}", f"--dbname={conninfo}"], env, "psql (restoring the dump)")


def _drop_app_tables_sql() -> str:
    import quantum_voice.models  # noqa: F401  (registers every table)
    from sqlmodel import SQLModel

    names = sorted({*SQLModel.metadata.tables, "alembic_version"})
    return "DROP TABLE IF EXISTS " + ", ".join(f'"{name}"' for name in names) + " CASCADE;\n"


