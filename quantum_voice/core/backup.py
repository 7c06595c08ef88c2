"""Backups: one ``.tar.gz`` holding the database and the data dir's files, and restoring one.

``python -m quantum_voice.core.backup create [--output PATH]`` and ``… restore PATH [--yes]`` (``make backup``,
``make restore FILE=…``; docs/operations.md, "Backups").

An archive holds ``manifest.json`` (what is inside, with sizes and SHA-256), the database under ``database/``
(SQLite: a consistent copy made with SQLite's online backup API; PostgreSQL: a ``pg_dump`` custom-format dump) and
the data dir's files under ``data/`` (uploads, ``secret_key``): it holds secrets, so it is written owner-only.

A restore checks the whole archive against its manifest before it changes anything, replaces the database (SQLite:
an atomic file replace; PostgreSQL: one transaction), puts the data files back, then migrates to head, so an older
backup comes back on the current schema. The app and the voice sidecar must be stopped first.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from sqlalchemy.engine import make_url

from quantum_voice.core.config import REPO_ROOT, Settings, get_settings

FORMAT = "quantum-voice-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/quantum_voice.db"
POSTGRES_MEMBER = "database/postgresql.dump"
DATA_PREFIX = "data/"
BACKUPS_DIR = "backups"  # under the data dir: where backups go by default; never itself archived
_STAGING_PREFIX = ".restore-"  # a restore's scratch folder inside the data dir; never archived
_TEMP_PREFIXES = (_STAGING_PREFIX, ".upload-")  # files being written right now (storage.py's temp files)
_CHUNK = 1 << 20
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
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{_STAGING_PREFIX}{target.name}-")
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


# -------------------------------------------------------------------------------------------- the data dir

def data_files(data_dir: Path, database: Database) -> Iterator[tuple[PurePosixPath, Path]]:
    """The data dir's regular files to archive, as (path inside data/, path on disk), in a stable order.

    Left out (and left alone by a restore): the backups themselves, the live SQLite files (archived through the
    backup API instead) and files being written right now."""
    if not data_dir.is_dir():
        return
    live_db = {p.resolve() for p in _sqlite_files(database.sqlite_path)} if database.sqlite_path else set()
    for root, dirs, files in os.walk(data_dir):
        top = Path(root) == data_dir
        dirs[:] = sorted(d for d in dirs if not d.startswith(_TEMP_PREFIXES) and not (top and d == BACKUPS_DIR))
        for name in sorted(files):
            path = Path(root) / name
            relative = PurePosixPath(path.relative_to(data_dir).as_posix())
            if name.startswith(_TEMP_PREFIXES) or path.resolve() in live_db or path.is_symlink() or not path.is_file():
                continue
            yield relative, path


# ------------------------------------------------------------------------------------------------- create

def default_output(settings: Settings, now: datetime) -> Path:
    return settings.data_dir / BACKUPS_DIR / f"qv-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def _check_output(output: Path, data_dir: Path) -> None:
    resolved, data = output.resolve(), data_dir.resolve()
    if resolved.is_relative_to(data) and not resolved.is_relative_to(data / BACKUPS_DIR):
        raise BackupError(f"refusing to write {output} inside the data dir {data_dir}: the next backup would "
                          f"archive it. Use {data_dir / BACKUPS_DIR}/ (the default) or a folder outside it")
    if output.exists():
        raise BackupError(f"{output} already exists; backups never overwrite one another")


def app_version() -> str | None:
    try:
        return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None


class _HashingReader:
    """Reads exactly ``size`` bytes of a file for tarfile, hashing them on the way."""

    def __init__(self, handle: BinaryIO, size: int):
        self.handle, self.left, self.sha = handle, size, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.handle.read(n)
        if len(data) != n:
            raise BackupError(f"{self.handle.name} shrank while it was being archived; run the backup again")
        self.left -= n
        self.sha.update(data)
        return data


def _add_file(archive: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())  # uploads are replaced by rename, never rewritten: this size holds
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = stat.st_size, stat.st_mode & 0o777, int(stat.st_mtime)
        reader = _HashingReader(handle, stat.st_size)
        archive.addfile(info, reader)
    return {"path": name, "size": stat.st_size, "sha256": reader.sha.hexdigest(), "mode": oct(info.mode)}


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def create_backup(output: Path | None = None, *, settings: Settings | None = None,
                  now: datetime | None = None) -> Path:
    """Write a backup archive (mode 0600) and return its path."""
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    database = configured_database(settings)
    output = Path(output) if output else default_output(settings, now)
    _check_output(output, settings.data_dir)
    if output.parent == settings.data_dir / BACKUPS_DIR:
        output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif not output.parent.is_dir():
        raise BackupError(f"the folder {output.parent} does not exist")
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".qv-backup-") as scratch:
        if database.kind == "sqlite":
            db_file, db_member = Path(scratch) / "quantum_voice.db", SQLITE_MEMBER
            snapshot_sqlite(database.sqlite_path, db_file)
            revision = _sqlite_revision(db_file)
        else:
            db_file, db_member = Path(scratch) / "postgresql.dump", POSTGRES_MEMBER
            revision = _pg_revision(database)
            dump_postgres(database, db_file)
        partial = Path(scratch) / "archive.tar.gz"
        _write_archive(partial, db_file, db_member, settings.data_dir, database, {
            "format": FORMAT, "format_version": FORMAT_VERSION, "created_at": now.isoformat(timespec="seconds"),
            "app_version": app_version(), "database": {"kind": database.kind, "alembic_revision": revision}})
        os.replace(partial, output)  # whole or absent: a failed backup leaves no half archive behind
    return output


def _write_archive(path: Path, db_file: Path, db_member: str, data_dir: Path, database: Database,
                   manifest: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
        files = [_add_file(archive, db_member, db_file)]
        for relative, source in data_files(data_dir, database):
            files.append(_add_file(archive, DATA_PREFIX + relative.as_posix(), source))
        manifest["files"] = files
        # Last, so the checksums are of the bytes actually written.
        _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())


# ------------------------------------------------------------------------------------------------ restore

def _member_name(member: tarfile.TarInfo) -> str:
    """A member's name if it is a plain file at a safe, expected place; anything else marks a foreign archive."""
    name = member.name
    path = PurePosixPath(name)
    safe = (member.isreg() and not path.is_absolute() and ".." not in path.parts and name == path.as_posix()
            and (name == MANIFEST or name in (SQLITE_MEMBER, POSTGRES_MEMBER) or name.startswith(DATA_PREFIX)))
    if not safe:
        raise BackupError(f"not a Quantum Voice backup: unexpected entry {name!r}")
    return name


def read_archive(archive_path: Path, staging: Path) -> dict[str, Any]:
    """Unpack ``archive_path`` into ``staging`` and check every file against the manifest; return the manifest."""
    seen: dict[str, tuple[int, str]] = {}
    manifest_bytes = None
    try:
        with tarfile.open(archive_path, mode="r:gz") as archive:
            for member in archive:
                name = _member_name(member)
                if name in seen or (name == MANIFEST and manifest_bytes is not None):
                    raise BackupError(f"not a Quantum Voice backup: {name!r} appears twice")
                source = archive.extractfile(member)
                if name == MANIFEST:
                    manifest_bytes = source.read(1 << 20)
                    continue
                seen[name] = _extract(source, staging / name)
    except BackupError:
        raise
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {archive_path}: not a readable .tar.gz backup ({exc})") from None
    return _verified_manifest(manifest_bytes, seen, archive_path)


def _extract(source: BinaryIO, dest: Path) -> tuple[int, str]:
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    sha, size = hashlib.sha256(), 0
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, sha.hexdigest()


def _verified_manifest(raw: bytes | None, seen: dict[str, tuple[int, str]], archive_path: Path) -> dict[str, Any]:
    if raw is None:
        raise BackupError(f"{archive_path} is not a Quantum Voice backup: it has no {MANIFEST}")
    try:
        manifest = json.loads(raw)
        listed = {f["path"]: (int(f["size"]), str(f["sha256"])) for f in manifest["files"]}
        kind = manifest["database"]["kind"]
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"{archive_path} is not a Quantum Voice backup: its {MANIFEST} cannot be read") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive_path} is not a Quantum Voice backup (format {manifest.get('format')!r})")
    if not isinstance(manifest.get("format_version"), int) or manifest["format_version"] > FORMAT_VERSION:
        raise BackupError(f"{archive_path} was written by a newer Quantum Voice (backup format "
                          f"{manifest.get('format_version')}; this one reads up to {FORMAT_VERSION}): upgrade first")
    expected_db = {"sqlite": SQLITE_MEMBER, "postgresql": POSTGRES_MEMBER}.get(kind)
    if expected_db is None or expected_db not in listed:
        raise BackupError(f"{archive_path} is damaged: its manifest names no {kind!r} database")
    for name in sorted(set(listed) | set(seen)):
        if name not in seen:
            raise BackupError(f"{archive_path} is damaged: {name} is listed in the manifest but missing")
        if name not in listed:
            raise BackupError(f"{archive_path} was altered: {name} is not listed in the manifest")
        if seen[name] != listed[name]:
            raise BackupError(f"{archive_path} is damaged or was altered: {name} does not match its checksum")
    return manifest


def _restore_data_files(staging: Path, data_dir: Path, database: Database, manifest: dict[str, Any]) -> None:
    """The data dir's files become the archive's: each put in place by rename, files added since removed."""
    wanted = set()
    for entry in manifest["files"]:
        if not entry["path"].startswith(DATA_PREFIX):
            continue
        relative = PurePosixPath(entry["path"][len(DATA_PREFIX):])
        wanted.add(relative)
        target = data_dir / relative
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staged = staging / entry["path"]
        os.chmod(staged, int(entry.get("mode", "0o600"), 8) & 0o700)  # never wider than owner-only
        os.replace(staged, target)
    for relative, path in list(data_files(data_dir, database)):
        if relative not in wanted:
            path.unlink()


def restore_backup(archive_path: Path, *, confirm: Callable[[dict[str, Any], Database], bool],
                   settings: Settings | None = None) -> dict[str, Any]:
    """Restore ``archive_path`` over the configured database and data dir; return its manifest.

    Nothing changes unless the whole archive checks out, its database kind is the configured one and ``confirm``
    says yes."""
    from quantum_voice.core import db as db_module
    from quantum_voice.core.migrate import upgrade_to_head

    settings = settings or get_settings()
    database = configured_database(settings)
    archive_path = Path(archive_path)
    if not archive_path.is_file():
        raise BackupError(f"cannot read {archive_path}: no such file")
    data_dir = settings.data_dir
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=_STAGING_PREFIX))  # same disk: renames are atomic
    try:
        manifest = read_archive(archive_path, staging)
        _check_kind(manifest, database)
        if database.kind == "postgresql":
            _pg_revision(database)  # reachable, and the tools are there, before anything is asked or changed
            _pg_tool("pg_restore")
            _pg_tool("psql")
        if not confirm(manifest, database):
            raise BackupError("restore cancelled; nothing was changed")
        db_module.set_engine(None)  # no pooled connection of this process may point at the replaced database
        if database.kind == "sqlite":
            restore_sqlite(staging / SQLITE_MEMBER, database.sqlite_path)
        else:
            restore_postgres(staging / POSTGRES_MEMBER, database, staging)
        _restore_data_files(staging, data_dir, database, manifest)
        try:
            upgrade_to_head(database.url)
        except Exception as exc:  # the data is back; say so, and what blocks the schema upgrade
            raise BackupError(f"the backup was restored, but migrating it to head failed: {exc}; fix the cause "
                              "and run `python -m quantum_voice.cli migrate`") from None
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_kind(manifest: dict[str, Any], database: Database) -> None:
    kind = manifest["database"]["kind"]
    if kind != database.kind:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupError(
            f"this backup holds a {names.get(kind, kind)} database, but the app is configured for "
            f"{names[database.kind]} ({database.label}). Restore it with the configuration it was made under "
            f"({'unset DATABASE_URL' if kind == 'sqlite' else 'DATABASE_URL=postgresql://…'}); moving data between "
            "SQLite and PostgreSQL is not a restore")


# ------------------------------------------------------------------------------------------- command line

def _describe(manifest: dict[str, Any]) -> str:
    data = [f for f in manifest["files"] if f["path"].startswith(DATA_PREFIX)]
    db = manifest["database"]
    return (f"backup of {manifest.get('created_at')} (app {manifest.get('app_version') or 'unknown'}): "
            f"{db['kind']} database at revision {db.get('alembic_revision') or 'none'}, {len(data)} data files")


def _ask(manifest: dict[str, Any], database: Database) -> bool:
    print(_describe(manifest))
    print(f"This REPLACES the {database.kind} database {database.label} and the data files in "
          f"{get_settings().data_dir}.\nStop the app and the voice sidecar first.")
    try:
        return input("Type 'restore' to go on: ").strip().lower() == "restore"
    except EOFError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quantum_voice.core.backup",
                                     description="Back up or restore the database and the data dir's files.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="write a backup archive")
    create.add_argument("--output", type=Path, help=f"archive path (default: DATA_DIR/{BACKUPS_DIR}/"
                                                    "qv-backup-<UTC time>.tar.gz)")
    restore = commands.add_parser("restore", help="replace the database and data files with a backup's")
    restore.add_argument("archive", type=Path)
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    try:
        if args.command == "create":
            path = create_backup(args.output)
            print(f"backup written: {path} ({path.stat().st_size:,} bytes). It holds secrets: keep it private.")
        else:
            confirm = (lambda _m, _d: True) if args.yes else _confirm_interactively
            manifest = restore_backup(args.archive, confirm=confirm)
            print(f"restored the {_describe(manifest)}; the database is migrated to head. Start the app again.")
        return 0
    except BackupError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{args.command}: interrupted", file=sys.stderr)
        return 1


def _confirm_interactively(manifest: dict[str, Any], database: Database) -> bool:
    if not sys.stdin.isatty():
        raise BackupError("restore replaces the database and data files: pass --yes (make restore ... YES=1) "
                          "to run without a prompt; nothing was changed")
    return _ask(manifest, database)


if __name__ == "__main__":
    raise SystemExit(main())
