"""Shared fixtures.

Database tests take the ``engine`` fixture and run twice: on a SQLite file and on a real PostgreSQL
database created for this run (127.0.0.1:5432, trust auth) and dropped afterwards. The schema comes
from the Alembic migrations, as in production.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

import quantum_voice.models  # noqa: F401
from quantum_voice.core import cache as cache_mod
from quantum_voice.core import db as db_mod
from quantum_voice.core import jobs, pubsub
from quantum_voice.core.clock import set_clock
from quantum_voice.core.config import Settings, get_settings, reset_settings
from quantum_voice.core.migrate import upgrade_to_head

# The PostgreSQL server the suite creates its databases on: TEST_POSTGRES_URL, else a PostgreSQL
# DATABASE_URL given to the suite, else the local server. The named database itself is never touched.
_GIVEN_DATABASE_URL = os.environ.get("DATABASE_URL", "")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL") or (
    _GIVEN_DATABASE_URL if _GIVEN_DATABASE_URL.startswith("postgres") else
    "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def postgres_reachable() -> bool:
    import psycopg

    try:
        url = make_url(Settings(database_url=POSTGRES_ADMIN_URL).database_url)
        psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database, connect_timeout=3).close()
        return True
    except Exception:
        return False


def service_missing(name: str) -> None:
    # In CI the services must be there: a missing one is a failure, not a skip.
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not reachable; CI needs it")
    pytest.skip(f"{name} is not reachable on this machine")


@pytest.fixture(autouse=True)
def _logs_reach_caplog(monkeypatch) -> None:
    """configure_logging (run by the CLIs some tests call) stops our loggers propagating; caplog listens at the root."""
    import logging

    for name in ("quantum_voice", "agent"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch) -> Iterator[None]:
    """Every test gets its own data dir, no SMTP, no Redis, a fresh in-process cache and the real clock."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    for var in ("DATABASE_URL", "REDIS_URL", "SMTP_HOST", "SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()
    cache_mod.set_cache(None)
    pubsub.set_pubsub(None)
    jobs.set_job_queue(None)
    set_clock(None)
    yield
    set_clock(None)
    reset_settings()
    cache_mod.set_cache(None)


def pytest_collection_modifyitems(config, items) -> None:
    """The markers that `make test-fast` leaves out, given by where a test lives and what it runs on."""
    for item in items:
        path = item.path.as_posix()
        if "/tests/e2e/" in path:
            item.add_marker(pytest.mark.browser)
        if "/tests/integration/agent/" in path:
            item.add_marker(pytest.mark.voice)
        params = getattr(item, "callspec", None)
        if params is not None and "postgresql" in params.params.values():
            item.add_marker(pytest.mark.postgres)


def create_postgres_database() -> str:
    """A new, empty database on the test server; returns its SQLAlchemy URL."""
    import psycopg

    url = make_url(Settings(database_url=POSTGRES_ADMIN_URL).database_url)
    name = f"qv_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(db_url: str) -> None:
    import psycopg

    admin = make_url(Settings(database_url=POSTGRES_ADMIN_URL).database_url)
    name = make_url(db_url).database
    with psycopg.connect(host=admin.host, port=admin.port, user=admin.username, dbname=admin.database,
                         autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_engine(request, tmp_path_factory) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    else:
        if not postgres_reachable():
            service_missing("PostgreSQL at 127.0.0.1:5432")
        url = create_postgres_database()
    upgrade_to_head(url)
    engine = db_mod.make_engine(url)
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        drop_postgres_database(url)


def _wipe(engine: Engine) -> None:
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """A migrated, empty database (SQLite and PostgreSQL), installed as the app's engine."""
    _wipe(migrated_engine)
    db_mod._engine = migrated_engine
    yield migrated_engine
    db_mod._engine = None


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.commit()


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except Exception:
        service_missing("Redis at 127.0.0.1:6379")
    client = redis.Redis.from_url(REDIS_TEST_URL)
    for key in client.scan_iter("qvtest*"):
        client.delete(key)
    return REDIS_TEST_URL


@pytest.fixture
def settings():
    return get_settings()
