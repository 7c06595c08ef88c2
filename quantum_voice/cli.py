"""Command line for operators: ``python -m quantum_voice.cli prepare`` migrates, seeds and prints how to sign in."""

from __future__ import annotations

import argparse
import logging

from quantum_voice.core.config import get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.migrate import upgrade_to_head
from quantum_voice.services.seed import seed_demo


def prepare() -> None:
    settings = get_settings()
    upgrade_to_head()
    seeded = False
    if settings.seed_demo:
        with session_scope() as session:
            seeded = seed_demo(session, settings)
    db = settings.effective_database_url.split("@")[-1]  # never print credentials
    print("─" * 64)
    print(f" Quantum Voice  →  {settings.app_url}")
    print(f" database: {db}{'  (demo data seeded)' if seeded else ''}")
    print(f" cache/queue/pub-sub: {'redis' if settings.redis_url else 'in-process'}")
    print(f" email: {'SMTP ' + settings.smtp_host if settings.smtp_configured else 'outbox (no SMTP): links are in the log and on /admin'}")
    if settings.seed_demo:
        print(f" demo sign-in: {settings.demo_email} / {settings.demo_password.get_secret_value()}")
    print("─" * 64, flush=True)


def main() -> None:
    logging.basicConfig(level=get_settings().log_level, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="quantum_voice.cli")
    parser.add_argument("command", choices=["prepare", "migrate"])
    args = parser.parse_args()
    if args.command == "migrate":
        upgrade_to_head()
    else:
        prepare()


if __name__ == "__main__":
    main()
