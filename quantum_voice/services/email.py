"""The one way the app sends mail.

Every message is written to the outbox table. With SMTP configured it is then sent and marked
``sent`` (or ``failed`` with the reason); without SMTP it is marked ``logged`` and printed to the log.

A secret link (email verification, password reset, invitation) is readable by its recipient only: the log and the
organisation's outbox view show it masked (``mask_secrets``). Without SMTP, the server's operator reads the full
message with ``python -m quantum_voice.cli mail --to ADDRESS``, which needs a shell on the server.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage as MimeMessage
from email.utils import make_msgid

from sqlmodel import Session

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import Settings, get_settings
from quantum_voice.models.system import EmailMessage, EmailStatus

log = logging.getLogger("quantum_voice.email")

SECRET_LINK_KINDS = frozenset({"verify_email", "reset_password", "invitation"})
HIDDEN = "[hidden]"
_SECRET_IN_LINK = re.compile(r"([?&](?:token|code|key|secret)=)[^\s&\"'<>]+", re.I)


def mask_secrets(text: str | None) -> str:
    """``text`` with every secret link parameter replaced by ``[hidden]`` ("/verify?token=[hidden]")."""
    return _SECRET_IN_LINK.sub(lambda m: m.group(1) + HIDDEN, text or "")


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    kind: str
    html: str | None = None
    organization_id: int | None = None
    message_id: str | None = None  # a stable Message-ID lets the receiver drop a repeat (notifications)


def _send_smtp(settings: Settings, email: OutgoingEmail) -> None:
    msg = MimeMessage()
    msg["From"] = settings.email_from
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Message-ID"] = email.message_id or make_msgid(domain="quantumvoice.local")
    msg.set_content(email.text)
    if email.html:
        msg.add_alternative(email.html, subtype="html")
    timeout = settings.smtp_timeout_seconds
    if settings.smtp_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with client:
        if settings.smtp_starttls and not settings.smtp_ssl:
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        client.send_message(msg)


@dataclass(frozen=True)
class Transmitted:
    """How one message went: ``sent`` (SMTP accepted it), ``failed`` (with the reason) or ``logged`` (no SMTP)."""

    email: OutgoingEmail
    status: str
    error: str | None = None
    sent_at: datetime | None = None


def transmit(email: OutgoingEmail, settings: Settings | None = None) -> Transmitted:
    """Hand ``email`` to SMTP (or the log, without SMTP), touching no database: a caller that must not hold a
    transaction while the mail server answers records the result afterwards (``record``)."""
    settings = settings or get_settings()
    if not settings.smtp_configured:
        hint = ("\n(the link is hidden here; the server's operator reads it with: python -m quantum_voice.cli mail "
                f"--to {email.to})" if email.kind in SECRET_LINK_KINDS else "")
        log.info("outbox (no SMTP configured) to=%s subject=%r\n%s%s", email.to, email.subject,
                 mask_secrets(email.text), hint)
        return Transmitted(email, EmailStatus.LOGGED.value)
    try:
        _send_smtp(settings, email)
    except (OSError, smtplib.SMTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.warning("email to %s (%s) failed: %s", email.to, email.kind, mask_secrets(error))
        return Transmitted(email, EmailStatus.FAILED.value, error)
    return Transmitted(email, EmailStatus.SENT.value, sent_at=utcnow())


def record(session: Session, result: Transmitted) -> EmailMessage:
    """The outbox row of a transmitted message."""
    email = result.email
    row = EmailMessage(
        organization_id=email.organization_id,
        to_address=email.to,
        subject=email.subject,
        body_text=email.text,
        body_html=email.html,
        kind=email.kind,
        status=result.status,
        error=result.error,
        sent_at=result.sent_at,
    )
    session.add(row)
    session.flush()
    return row


def send_email(session: Session, email: OutgoingEmail, settings: Settings | None = None) -> EmailMessage:
    return record(session, transmit(email, settings))
