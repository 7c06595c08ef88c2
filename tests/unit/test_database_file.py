"""The SQLite database holds live secrets (reset and invitation links in the outbox, sessions): its file, its -wal
and -shm files and the directory made for it are the owner's only, whatever the umask (issue 13: it was 0644)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from quantum_voice.core.db import make_engine


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The most permissive umask: nothing but the app's own choice of modes keeps the files private."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def write_something(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS outbox (body TEXT)"))
            conn.execute(text("INSERT INTO outbox VALUES ('https://app/reset-password?token=secret')"))
        with engine.connect() as conn:  # WAL mode: the -wal and -shm files exist while a connection is open
            conn.execute(text("SELECT count(*) FROM outbox")).one()
            for suffix in ("-wal", "-shm"):
                assert (wal := path.with_name(path.name + suffix)).exists(), suffix
                assert mode(wal) == 0o600, f"{suffix}: {oct(mode(wal))}"
    finally:
        engine.dispose()


def test_a_new_database_and_its_directory_are_the_owners_only(tmp_path, open_umask):
    path = tmp_path / "fresh" / "data" / "quantum_voice.db"
    write_something(path)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_an_existing_world_readable_database_is_made_private(tmp_path, open_umask, monkeypatch):
    from quantum_voice.core.config import reset_settings

    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    reset_settings()
    path = data_dir / "quantum_voice.db"
    write_something(path)
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            file.chmod(0o644)  # as the probe found it
    data_dir.chmod(0o755)
    write_something(path)  # the next start
    assert mode(path) == 0o600 and mode(data_dir) == 0o700


def test_a_directory_that_is_not_the_apps_own_is_left_as_it_is(tmp_path, open_umask):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    write_something(shared / "app.db")
    assert mode(shared / "app.db") == 0o600 and mode(shared) == 0o755
