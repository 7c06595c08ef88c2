"""Throw-away databases for the benchmarks that measure on PostgreSQL as well as SQLite."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def throwaway_postgres(prefix: str) -> tuple[str, Callable[[], None]]:
    """A new database on the local server (as tests/conftest.py makes them, ``BENCH_POSTGRES_URL`` to point
    elsewhere): its URL, and how to drop it."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    connect = dict(host=admin.host, port=admin.port, user=admin.username, dbname=admin.database, autocommit=True)
    with psycopg.connect(**connect) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(**connect) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin.set(database=name).render_as_string(hide_password=False), drop


@contextmanager
def migrated_database(postgres: bool, prefix: str) -> Iterator[None]:
    """A fresh, migrated database installed as the app's for the duration: a SQLite file in a temporary data dir,
    or (``postgres``) a throw-away database on the local server, dropped afterwards."""
    from quantum_voice.core import db as db_mod
    from quantum_voice.core.config import reset_settings
    from quantum_voice.core.migrate import upgrade_to_head

    with tempfile.TemporaryDirectory(prefix=f"{prefix.replace('_', '-')}-") as data_dir:
        os.environ["DATA_DIR"] = data_dir
        os.environ.pop("REDIS_URL", None)
        url, drop = throwaway_postgres(prefix) if postgres else ("", None)
        os.environ["DATABASE_URL"] = url
        reset_settings()
        db_mod._engine = None
        try:
            upgrade_to_head()
            yield
        finally:
            if db_mod._engine is not None:
                db_mod._engine.dispose()
                db_mod._engine = None
            if drop:
                drop()


def analyze(engine) -> None:
    """Fresh planner statistics after a bulk seed (PostgreSQL's VACUUM ANALYZE runs outside a transaction)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
