"""Command line for the server's operator.

``prepare`` migrates, seeds and prints how to sign in; ``migrate`` only migrates; ``mail [--to ADDRESS]`` prints the
most recent local mail in full, secret links included (without SMTP this is how the operator reads them: nobody
else can, since the log and the organisations' outbox views mask them).
"""

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
    if settings.app_url.startswith(("http://localhost", "http://127.0.0.1")):
        print(" APP_URL is a local address: emailed links, QR codes and the widget work on this machine only.")
    print(f" database: {db}{'  (demo data seeded)' if seeded else ''}")
    print(f" cache/queue/pub-sub: {'redis' if settings.redis_url else 'in-process'}")
    print(f" email: {'SMTP ' + settings.smtp_host if settings.smtp_configured else 'no SMTP: read mail with python -m quantum_voice.cli mail --to ADDRESS'}")
    if settings.seed_demo:
        print(f" demo sign-in: {settings.demo_email} / {settings.demo_password.get_secret_value()}")
    print("─" * 64, flush=True)


def print_mail(to: str | None, limit: int) -> int:
    """The latest ``limit`` outbox messages (to ``to`` only, when given), in full, newest last."""
    from sqlmodel import select

    from quantum_voice.models.system import EmailMessage

    with session_scope() as session:
        stmt = select(EmailMessage).order_by(EmailMessage.id.desc()).limit(max(1, min(limit, 200)))  # type: ignore[union-attr]
        if to:
            stmt = stmt.where(EmailMessage.to_address == to.strip().lower())
        messages = list(reversed(session.exec(stmt).all()))
        if not messages:
            print("No mail" + (f" to {to}." if to else "."))
        for message in messages:
            print(f"── {message.created_at:%Y-%m-%d %H:%M} UTC  to {message.to_address}  [{message.kind}, {message.status}]")
            print(f"Subject: {message.subject}\n\n{message.body_text}\n")
    return 0


def main() -> None:
    logging.basicConfig(level=get_settings().log_level, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="quantum_voice.cli")
    parser.add_argument("command", choices=["prepare", "migrate", "mail"])
    parser.add_argument("--to", help="mail: only messages to this address")
    parser.add_argument("--limit", type=int, default=10, help="mail: how many messages (at most 200)")
    args = parser.parse_args()
    if args.command == "migrate":
        upgrade_to_head()
    elif args.command == "mail":
        raise SystemExit(print_mail(args.to, args.limit))
    else:
        prepare()


if __name__ == "__main__":
    main()
