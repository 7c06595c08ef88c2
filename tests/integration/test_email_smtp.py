"""Mail through a real SMTP server (aiosmtpd on localhost), and what happens when SMTP is down."""

from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlmodel import select

from quantum_voice.core.config import reset_settings
from quantum_voice.models.system import EmailMessage
from quantum_voice.services import accounts
from tests.factories import PASSWORD
from tests.local_server import free_port


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"



def _check_login(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"mailer" and auth_data.password == b"mail-secret"
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server(monkeypatch):
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_check_login,
                            auth_require_tls=False)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_USERNAME", "mailer")
    monkeypatch.setenv("SMTP_PASSWORD", "mail-secret")
    monkeypatch.setenv("EMAIL_FROM", "Acme Voice <voice@example.com>")
    reset_settings()
    yield inbox
    controller.stop()


def test_verification_mail_is_delivered_over_smtp(session, smtp_server):
    accounts.signup(session, email="ana@example.com", password=PASSWORD, organization_name="Acme")
    assert len(smtp_server.messages) == 1
    recipients, message = smtp_server.messages[0]
    assert recipients == ["ana@example.com"]
    assert message["Subject"] == "Verify your email for Quantum Voice"
    assert message["From"] == "Acme Voice <voice@example.com>"
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain").get_payload(decode=True)
    assert b"/verify?token=" in text
    row = session.exec(select(EmailMessage)).one()
    assert row.status == "sent" and row.sent_at is not None


def test_wrong_smtp_credentials_fail_visibly_without_losing_the_signup(session, smtp_server, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "wrong-password")
    monkeypatch.setenv("SMTP_TIMEOUT_SECONDS", "2")
    reset_settings()
    result = accounts.signup(session, email="ana@example.com", password=PASSWORD, organization_name="Acme")
    assert result.user.id is not None
    row = session.exec(select(EmailMessage)).one()
    assert row.status == "failed" and row.error.startswith("SMTP")
    assert "wrong-password" not in row.error  # the password is never recorded
    assert smtp_server.messages == []


def test_unreachable_smtp_keeps_the_message_in_the_outbox(session, monkeypatch):
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("SMTP_TIMEOUT_SECONDS", "2")
    reset_settings()
    accounts.signup(session, email="ana@example.com", password=PASSWORD, organization_name="Acme")
    row = session.exec(select(EmailMessage)).one()
    assert row.status == "failed" and "ConnectionRefused" in row.error
    assert "/verify?token=" in row.body_text  # an admin can still pass the link on
