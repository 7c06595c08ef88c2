"""Throw-away databases for the benchmarks that measure on PostgreSQL as well as SQLite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable


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
