"""Build real accounts through the services, the way users create them."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from quantum_voice.models.accounts import Membership, Organization, Role, User
from quantum_voice.models.system import EmailMessage
from quantum_voice.services import accounts, team
from quantum_voice.services.tenancy import OrgRepository, Scope

PASSWORD = "a-long-password-42"


def last_link(session: Session, to: str, path: str) -> str:
    """The token of the newest emailed link to ``path`` (e.g. "/verify") sent to ``to``."""
    messages = session.exec(select(EmailMessage).where(EmailMessage.to_address == to)
                            .order_by(EmailMessage.id.desc())).all()
    for message in messages:
        match = re.search(re.escape(path) + r"\?token=([\w\-]+)", message.body_text)
        if match:
            return match.group(1)
    raise AssertionError(f"no email to {to} with a {path} link")


def verified_owner(session: Session, email: str = "owner@example.com", org: str = "Acme Homes") -> tuple[User, Organization]:
    result = accounts.signup(session, email=email, password=PASSWORD, organization_name=org)
    accounts.verify_email(session, last_link(session, result.user.email, "/verify"))
    session.flush()
    return result.user, result.organization


def scope_for(session: Session, user: User) -> Scope:
    membership = session.exec(select(Membership).where(Membership.user_id == user.id)).one()
    return Scope(user_id=user.id, organization_id=membership.organization_id, role=membership.role)


def repo_for(session: Session, user: User) -> OrgRepository:
    return OrgRepository(session, scope_for(session, user))


def add_member(session: Session, owner: User, email: str, role: Role | str) -> User:
    repo = repo_for(session, owner)
    _, token = team.invite(repo, email=email, role=str(role))
    return team.accept_invitation(session, token, password=PASSWORD, full_name=email.split("@")[0])


# ---------------------------------------------------------------- the REST API as a signed-in person

def api_login(client, email: str) -> dict[str, str]:
    """The bearer header of ``email`` (created with PASSWORD) signing in through POST /api/auth/login."""
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def api_owner(client, org: str = "Harbor View") -> dict[str, str]:
    """owner@example.com, owner of ``org``, signed in."""
    from quantum_voice.core.db import session_scope

    with session_scope() as session:
        verified_owner(session, email="owner@example.com", org=org)
    return api_login(client, "owner@example.com")


def api_member(client, role: str, email: str) -> dict[str, str]:
    """A member of owner@example.com's organisation with ``role``, signed in."""
    from quantum_voice.core.db import session_scope

    with session_scope() as session:
        owner_user = session.exec(select(User).where(User.email == "owner@example.com")).one()
        add_member(session, owner_user, email, role)
    return api_login(client, email)
