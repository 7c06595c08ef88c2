"""Alembic environment: migrates the database named by DATABASE_URL (or the URL passed in by the app)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import quantum_voice.models  # noqa: F401  (registers every table on the metadata)
from quantum_voice.core.config import get_settings
from quantum_voice.core.db import make_engine
from quantum_voice.services.knowledge.fulltext import include_in_autogenerate

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().effective_database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True,
                      include_name=include_in_autogenerate)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url(), time_budget=False)  # an index build on a big table may take a while
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_in_autogenerate,  # full-text index objects are not models
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
