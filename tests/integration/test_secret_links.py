"""Secret links (verification, password reset, invitation) are readable by their recipient only: never by an
admin of the organisation, never by the owner of another organisation the person belongs to, never in the log."""

import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.cli import print_mail
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import Role
from quantum_voice.models.system import EmailMessage
from quantum_voice.services import accounts, team
from tests.factories import PASSWORD, add_member, api_login, last_link, repo_for, verified_owner


@pytest.fixture
def client(engine):
    return TestClient(create_api())


def _tokens(to: str) -> list[str]:
    with session_scope() as session:
        bodies = session.exec(select(EmailMessage.body_text).where(EmailMessage.to_address == to)).all()
    return [token for body in bodies for token in re.findall(r"token=([\w\-]+)", body)]


def test_an_admin_cannot_read_the_owners_reset_link_and_become_owner(client):
    with session_scope() as session:
        owner, _ = verified_owner(session)
        add_member(session, owner, "admin@example.com", Role.ADMIN)
        accounts.request_password_reset(session, "owner@example.com")
    admin = api_login(client, "admin@example.com")
    response = client.get("/api/admin/outbox", headers=admin)
    assert response.status_code == 200
    secrets = _tokens("owner@example.com")
    assert secrets and not any(secret in response.text for secret in secrets)
    assert all(mail["kind"] not in ("reset_password", "verify_email") for mail in response.json())


def test_the_owner_of_a_second_organisation_cannot_read_a_shared_members_links(client):
    with session_scope() as session:
        owner_a, _ = verified_owner(session, email="a@example.com", org="A Homes")
        add_member(session, owner_a, "pat@example.com", Role.VIEWER)
        owner_b, _ = verified_owner(session, email="b@example.com", org="B Homes")
        _, invite_token = team.invite(repo_for(session, owner_b), email="pat@example.com", role="viewer")
        team.accept_invitation(session, invite_token, password=PASSWORD)  # pat now belongs to A and B
        accounts.request_password_reset(session, "pat@example.com")
    response = client.get("/api/admin/outbox", headers=api_login(client, "b@example.com"))
    assert response.status_code == 200
    assert not any(secret in response.text for secret in _tokens("pat@example.com"))
    invitations = [mail for mail in response.json() if mail["kind"] == "invitation"]
    assert invitations and all("token=[hidden]" in mail["body_text"] for mail in invitations)


def test_the_log_masks_secret_links_and_says_who_can_read_them(session, caplog):
    with caplog.at_level(logging.INFO, logger="quantum_voice.email"):
        verified_owner(session, email="rosa@example.com")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    token = last_link(session, "rosa@example.com", "/verify")
    assert "/verify?token=[hidden]" in logged and token not in logged
    assert "python -m quantum_voice.cli mail --to rosa@example.com" in logged


def test_the_operators_mail_command_prints_the_whole_message(engine, capsys):
    with session_scope() as session:
        accounts.signup(session, email="lee@example.com", password=PASSWORD, organization_name="Lee Co")
    assert print_mail("lee@example.com", 5) == 0
    printed = capsys.readouterr().out
    assert f"/verify?token={_tokens('lee@example.com')[0]}" in printed and "to lee@example.com" in printed
    assert print_mail("nobody@example.com", 5) == 0
    assert "No mail to nobody@example.com." in capsys.readouterr().out
