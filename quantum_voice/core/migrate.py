"""Apply Alembic migrations from code (``make run``, tests) and from the command line."""

from __future__ import annotations

import sys

from alembic import command
from alembic.config import Config

from quantum_voice.core.config import REPO_ROOT, get_settings


def alembic_config(database_url: str | None = None) -> Config:
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    cfg.attributes["database_url"] = database_url or get_settings().effective_database_url
    return cfg


def upgrade_to_head(database_url: str | None = None) -> None:
    command.upgrade(alembic_config(database_url), "head")


def downgrade_to_base(database_url: str | None = None) -> None:
    command.downgrade(alembic_config(database_url), "base")


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "head"
    command.upgrade(alembic_config(), target)
