"""Backups on real databases (SQLite and PostgreSQL): a round trip brings rows and uploaded files back exactly, an
altered, foreign or unreadable archive is refused and changes nothing, a backup of one database kind is refused by
the other, and an older backup comes back migrated to head.

Each test has its own data dir and, on PostgreSQL, its own throw-away database (never the suite's shared one)."""

from __future__ import annotations

import io
import json
import sqlite3
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import select

from quantum_voice.core import backup
from quantum_voice.core.backup import archive as backup_archive
from quantum_voice.core.backup import databases as backup_databases
from quantum_voice.core import db as db_module
from quantum_voice.core.backup import BackupError, create_backup, restore_backup
from quantum_voice.core.config import get_settings, reset_settings
from quantum_voice.core.db import get_engine, session_scope
from quantum_voice.core.migrate import alembic_config, upgrade_to_head
from quantum_voice.models.accounts import Organization
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.leads import Lead
from quantum_voice.services.campaigns import create_campaign
from quantum_voice.services.knowledge.storage import get_blob_storage
from tests.conftest import create_postgres_database, drop_postgres_database, postgres_reachable, service_missing
from tests.factories import repo_for, verified_owner

UPLOAD_KEY = "org-1/kb-1/brochure.pdf"


def yes(_manifest, _database) -> bool:
    return True


def use_database(kind: str, monkeypatch) -> str | None:
    """Point the settings at a fresh database of ``kind``; returns the PostgreSQL URL to drop afterwards."""
    url = None
    if kind == "postgresql":
        if not postgres_reachable():
            service_missing("PostgreSQL at 127.0.0.1:5432")
        url = create_postgres_database()
        monkeypatch.setenv("DATABASE_URL", url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_settings()
    db_module.set_engine(None)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def app_db(request, monkeypatch) -> Iterator[str]:
    """The app configured on an empty, migrated database of its own (SQLite in the data dir, or PostgreSQL)."""
    url = use_database(request.param, monkeypatch)
    try:
        upgrade_to_head()
        yield request.param
    finally:
        db_module.set_engine(None)
        if url:
            drop_postgres_database(url)


def seed() -> None:
    with session_scope() as session:
        user, _ = verified_owner(session)
        repo = repo_for(session, user)
        campaign = create_campaign(repo, name="Spring Open House")
        repo.add(Lead(organization_id=0, campaign_id=campaign.id, name="Ana Lopez", email="ana@example.com", score=72))
    get_blob_storage().put(UPLOAD_KEY, b"%PDF-1.4 the brochure")
    get_settings().effective_secret_key  # noqa: B018  (creates data/secret_key, as the app does)


def state() -> dict:
    """What a restore must bring back: rows, and every file of the data dir but the database and backups."""
    settings = get_settings()
    database = backup.configured_database(settings)
    with session_scope() as session:
        rows = {
            "organizations": sorted(o.name for o in session.exec(select(Organization))),
            "campaigns": sorted((c.name, c.slug) for c in session.exec(select(Campaign))),
            "leads": sorted((lead.name, lead.email, lead.score) for lead in session.exec(select(Lead))),
        }
    files = {rel.as_posix(): path.read_bytes() for rel, path in backup.data_files(settings.data_dir, database)}
    return {"rows": rows, "files": files}


def change_everything() -> None:
    with session_scope() as session:
        session.delete(session.exec(select(Lead)).one())
        campaign = session.exec(select(Campaign)).one()
        campaign.name = "Renamed"
        session.add(Organization(name="Added Later", slug="added-later"))
    storage = get_blob_storage()
    storage.delete(UPLOAD_KEY)
    storage.put("org-1/kb-1/added-later.txt", b"not in the backup")
    (get_settings().data_dir / "secret_key").write_text("a different key")


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def rewrite_archive(archive: Path, dest: Path, replace: dict[str, bytes]) -> Path:
    """A copy of ``archive`` with some members' bytes replaced and its manifest kept as it was."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(dest, "w:gz") as out:
        for member in src:
            data = replace.get(member.name, src.extractfile(member).read())
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    return dest


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision() -> str:
    with get_engine().connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


# --------------------------------------------------------------------------------------------------- round trip

def test_a_backup_brings_back_the_rows_and_files_exactly(app_db):
    seed()
    before = state()
    assert set(before["files"]) == {f"uploads/{UPLOAD_KEY}", "secret_key"} and before["rows"]["leads"]

    archive = create_backup()

    assert archive.parent == get_settings().data_dir / "backups"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    manifest = manifest_of(archive)
    assert manifest["format"] == "quantum-voice-backup" and manifest["format_version"] == 1
    assert manifest["database"] == {"kind": app_db, "alembic_revision": head_revision()}
    assert manifest["app_version"] and manifest["created_at"]
    listed = {f["path"]: f for f in manifest["files"]}
    db_member = "database/quantum_voice.db" if app_db == "sqlite" else "database/postgresql.dump"
    assert set(listed) == {db_member, f"data/uploads/{UPLOAD_KEY}", "data/secret_key"}
    assert listed[f"data/uploads/{UPLOAD_KEY}"]["size"] == len(b"%PDF-1.4 the brochure")
    assert all(len(f["sha256"]) == 64 for f in listed.values())

    change_everything()
    assert state() != before

    restored = restore_backup(archive, confirm=yes)

    assert restored["database"]["kind"] == app_db
    assert state() == before
    assert current_revision() == head_revision()
    assert archive.exists()  # the backups folder is left alone by a restore


def test_a_sqlite_backup_runs_beside_an_open_write_and_leaves_it_out(tmp_path):
    upgrade_to_head()
    seed()
    live = backup.configured_database(get_settings()).sqlite_path
    writer = sqlite3.connect(live, timeout=1)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE leads SET score = 1")
        backup.snapshot_sqlite(live, tmp_path / "copy.db")  # neither waits for the writer nor blocks it
        writer.commit()
    finally:
        writer.close()
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("SELECT score FROM leads").fetchall() == [(72,)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    finally:
        copy.close()
    assert not (tmp_path / "copy.db-wal").exists()


def test_the_command_line_backs_up_and_restores(app_db, capsys):
    seed()
    before = state()
    out = get_settings().data_dir.parent / "elsewhere.tar.gz"
    assert backup.main(["create", "--output", str(out)]) == 0
    assert "holds secrets" in capsys.readouterr().out
    change_everything()
    assert backup.main(["restore", str(out), "--yes"]) == 0
    assert state() == before


def test_an_older_backup_is_migrated_to_head_after_restore(app_db):
    previous = ScriptDirectory.from_config(alembic_config()).get_revision(head_revision()).down_revision
    command.downgrade(alembic_config(), previous)
    archive = create_backup()
    assert manifest_of(archive)["database"]["alembic_revision"] == previous
    upgrade_to_head()  # the newest migration's tables now exist, and must not block the restore or its upgrade

    restore_backup(archive, confirm=yes)

    assert current_revision() == head_revision()


# --------------------------------------------------------------------------------------------------- refusals

def test_an_altered_archive_is_refused_and_changes_nothing(app_db, capsys):
    seed()
    archive = create_backup()
    tampered = rewrite_archive(archive, archive.with_name("tampered.tar.gz"),
                               {f"data/uploads/{UPLOAD_KEY}": b"%PDF-1.4 someone else's brochure"})
    change_everything()
    after_change = state()

    with pytest.raises(BackupError, match="checksum"):
        restore_backup(tampered, confirm=yes)
    capsys.readouterr()  # only what the command line writes is judged below, not the seeding's log lines
    assert backup.main(["restore", str(tampered), "--yes"]) == 1

    assert state() == after_change
    err = capsys.readouterr().err
    assert "does not match its checksum" in err and "Traceback" not in err
    assert not [p for p in get_settings().data_dir.iterdir() if p.name.startswith(".restore-")]


def test_a_restore_without_confirmation_changes_nothing(app_db):
    seed()
    archive = create_backup()
    change_everything()
    after_change = state()
    with pytest.raises(BackupError, match="cancelled"):
        restore_backup(archive, confirm=lambda _m, _d: False)
    assert state() == after_change


def test_an_unreadable_or_foreign_archive_is_refused_with_a_clear_message(tmp_path, capsys):
    upgrade_to_head()
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"this is not a gzip file")
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        info = tarfile.TarInfo("etc/passwd")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"root"))
    no_manifest = tmp_path / "no-manifest.tar.gz"
    with tarfile.open(no_manifest, "w:gz") as tar:
        info = tarfile.TarInfo("data/secret_key")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"key!"))

    capsys.readouterr()  # only what the command line writes is judged, not the migrations' log lines
    for archive, message in [(garbage, "not a readable .tar.gz"), (foreign, "unexpected entry 'etc/passwd'"),
                             (no_manifest, "has no manifest.json"), (tmp_path / "missing.tar.gz", "no such file")]:
        assert backup.main(["restore", str(archive), "--yes"]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
    assert not (get_settings().data_dir / "secret_key").exists()


@pytest.mark.postgres
def test_a_sqlite_backup_is_refused_by_a_postgresql_configuration(monkeypatch, capsys):
    upgrade_to_head()
    seed()
    archive = create_backup(get_settings().data_dir.parent / "sqlite-backup.tar.gz")
    url = use_database("postgresql", monkeypatch)
    try:
        upgrade_to_head()
        before = state()
        capsys.readouterr()
        assert backup.main(["restore", str(archive), "--yes"]) == 1
        err = capsys.readouterr().err
        assert "holds a SQLite database, but the app is configured for PostgreSQL" in err
        assert state() == before
    finally:
        db_module.set_engine(None)
        drop_postgres_database(url)


def test_a_backup_is_never_written_into_the_data_dir_it_archives(tmp_path):
    upgrade_to_head()
    data_dir = get_settings().data_dir
    with pytest.raises(BackupError, match="inside the data dir"):
        create_backup(data_dir / "uploads" / "b.tar.gz")
    existing = tmp_path / "taken.tar.gz"
    existing.write_bytes(b"")
    with pytest.raises(BackupError, match="already exists"):
        create_backup(existing)
    first = create_backup()
    second = create_backup(tmp_path / "second.tar.gz")
    assert all(not f["path"].startswith("data/backups") for f in manifest_of(second)["files"])
    assert first.exists()


def test_missing_pg_dump_and_an_unreachable_database_are_clear_errors(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret-pw@127.0.0.1:1/nothing")
    reset_settings()
    capsys.readouterr()
    assert backup.main(["create", "--output", str(tmp_path / "b.tar.gz")]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the PostgreSQL database 127.0.0.1:1/nothing" in err
    assert "secret-pw" not in err and "Traceback" not in err

    monkeypatch.setattr(backup_databases.shutil, "which", lambda _name: None)
    monkeypatch.setattr(backup_databases, "_PG_INSTALL_ROOT", tmp_path / "no-postgresql")
    monkeypatch.setattr(backup_archive, "_pg_revision", lambda _db: "head")
    assert backup.main(["create", "--output", str(tmp_path / "b.tar.gz")]) == 1
    assert "pg_dump was not found" in capsys.readouterr().err
    assert not (tmp_path / "b.tar.gz").exists()

