"""The archive: writing the database and the data dir's files with a manifest of checksums, and restoring one
after checking every file against it."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO


from quantum_voice.core.config import REPO_ROOT, Settings, get_settings


from quantum_voice.core.backup.databases import (BackupError, Database, STAGING_PREFIX, _pg_revision, _pg_tool, _sqlite_files, _sqlite_revision, configured_database, dump_postgres, restore_postgres, restore_sqlite, snapshot_sqlite)

FORMAT = "quantum-voice-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/quantum_voice.db"
POSTGRES_MEMBER = "database/postgresql.dump"
DATA_PREFIX = "data/"
BACKUPS_DIR = "backups"  # under the data dir: where backups go by default; never itself archived
_TEMP_PREFIXES = (STAGING_PREFIX, ".upload-")  # files being written right now (storage.py's temp files)
_CHUNK = 1 << 20

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
    staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=STAGING_PREFIX))  # same disk: renames are atomic
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


