"""The team page: members, invitations, roles. An organisation always keeps at least one owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.errors import Conflict, NotAuthenticated, ValidationFailed
from quantum_voice.core.security import hash_password, hash_token, new_token, verify_password
from quantum_voice.models.accounts import Invitation, Membership, Organization, Role, User
from quantum_voice.services import audit
from quantum_voice.services.accounts import check_name, check_password, normalise_email, revoke_user_sessions
from quantum_voice.services.email import OutgoingEmail, send_email
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository


@dataclass(frozen=True)
class MemberView:
    membership_id: int
    user_id: int
    email: str
    full_name: str | None
    role: str
    joined_at: datetime
    verified: bool


@dataclass(frozen=True)
class InvitationView:
    id: int
    email: str
    role: str
    expires_at: datetime
    expired: bool


def parse_role(value: str, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValidationFailed(f"Unknown role {value!r}. Choose one of: {choices}.", field=field) from None


def list_members(repo: OrgRepository) -> list[MemberView]:
    repo.scope.require(Permission.VIEW)
    rows = repo.session.exec(
        select(Membership, User).join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == repo.scope.organization_id).order_by(Membership.id)
    ).all()
    return [MemberView(m.id, u.id, u.email, u.full_name, m.role, m.created_at, u.email_verified_at is not None)
            for m, u in rows]


def list_invitations(repo: OrgRepository) -> list[InvitationView]:
    repo.scope.require(Permission.MANAGE_TEAM)
    now = utcnow()
    rows = repo.list(Invitation, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),  # type: ignore[union-attr]
                     order_by=Invitation.id)
    return [InvitationView(i.id, i.email, i.role, i.expires_at, i.expires_at <= now) for i in rows]


def _owner_count(repo: OrgRepository) -> int:
    return repo.count(Membership, Membership.role == Role.OWNER.value)


def invite(repo: OrgRepository, *, email: str, role: str, ip: str | None = None,
           settings: Settings | None = None) -> tuple[Invitation, str]:
    settings = settings or get_settings()
    repo.scope.require(Permission.MANAGE_TEAM)
    new_role = parse_role(role)
    if new_role is Role.OWNER:
        repo.scope.require(Permission.GRANT_OWNER)
    email = normalise_email(email)
    session = repo.session
    existing_user = session.exec(select(User).where(User.email == email)).first()
    if existing_user is not None and repo.list(Membership, Membership.user_id == existing_user.id):
        raise Conflict(f"{email} is already a member of this organisation. Change their role instead.",
                       code="already_member", field="email")
    for pending in repo.list(Invitation, Invitation.email == email, Invitation.accepted_at.is_(None),  # type: ignore[union-attr]
                             Invitation.revoked_at.is_(None)):  # type: ignore[union-attr]
        pending.revoked_at = utcnow()  # a new invitation replaces the old link
    token = new_token()
    invitation = repo.add(Invitation(organization_id=repo.scope.organization_id, email=email, role=new_role.value,
                                     token_hash=hash_token(token), invited_by_id=repo.scope.user_id,
                                     expires_at=utcnow() + timedelta(days=settings.invite_ttl_days)))
    org = session.get(Organization, repo.scope.organization_id)
    inviter = session.get(User, repo.scope.user_id) if repo.scope.user_id else None
    link = settings.app_link("/accept-invite", token)
    who = (inviter.full_name or inviter.email) if inviter else "A teammate"
    send_email(session, OutgoingEmail(
        to=email,
        subject=f"You're invited to {org.name} on Quantum Voice",
        text=(f"{who} invited you to join {org.name} on Quantum Voice as {new_role.value}.\n\n"
              f"Accept the invitation here:\n{link}\n\nThe link is valid for {settings.invite_ttl_days} days."),
        kind="invitation",
        organization_id=org.id,
    ), settings)
    audit.record(session, "team.invite", organization_id=org.id, actor_user_id=repo.scope.user_id,
                 target_type="invitation", target_id=invitation.id, ip=ip, email=email, role=new_role.value)
    return invitation, token


def revoke_invitation(repo: OrgRepository, invitation_id: int, ip: str | None = None) -> None:
    repo.scope.require(Permission.MANAGE_TEAM)
    invitation = repo.get(Invitation, invitation_id)
    invitation.revoked_at = utcnow()
    audit.record(repo.session, "team.invite_revoked", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="invitation", target_id=invitation_id, ip=ip)


@dataclass(frozen=True)
class InvitationInfo:
    organization_id: int
    email: str
    role: str
    organization_name: str
    account_exists: bool


def _pending_invitation(session: Session, token: str) -> Invitation:
    invitation = session.exec(select(Invitation).where(Invitation.token_hash == hash_token(token))).first()
    if invitation is None or invitation.revoked_at is not None:
        raise ValidationFailed("This invitation link is not valid any more. Ask for a new invitation.",
                               code="invalid_token", field="token")
    if invitation.accepted_at is not None:
        raise ValidationFailed("This invitation was already accepted. Sign in instead.", code="token_used", field="token")
    if invitation.expires_at <= utcnow():
        raise ValidationFailed("This invitation has expired. Ask for a new one.", code="token_expired", field="token")
    return invitation


def describe_invitation(session: Session, token: str) -> InvitationInfo:
    invitation = _pending_invitation(session, token)
    org = session.get(Organization, invitation.organization_id)
    exists = session.exec(select(User).where(User.email == invitation.email)).first() is not None
    return InvitationInfo(invitation.organization_id, invitation.email, invitation.role, org.name, exists)


def accept_invitation(session: Session, token: str, *, password: str, full_name: str | None = None,
                      ip: str | None = None) -> User:
    """New people set a password; people with an account confirm theirs."""
    invitation = _pending_invitation(session, token)
    user = session.exec(select(User).where(User.email == invitation.email)).first()
    if user is None:
        check_password(password, invitation.email)
        user = User(email=invitation.email, password_hash=hash_password(password), email_verified_at=utcnow(),
                    full_name=check_name(full_name, "name", "full_name") if full_name else None)
        session.add(user)
        session.flush()
    elif not verify_password(user.password_hash, password):
        raise NotAuthenticated("Wrong password for this account. Use your existing Quantum Voice password.",
                               code="invalid_credentials")
    elif user.email_verified_at is None:
        user.email_verified_at = utcnow()  # the invitation link proves the inbox
    session.add(Membership(organization_id=invitation.organization_id, user_id=user.id, role=invitation.role))
    invitation.accepted_at = utcnow()
    audit.record(session, "team.invite_accepted", organization_id=invitation.organization_id,
                 actor_user_id=user.id, target_type="invitation", target_id=invitation.id, ip=ip)
    session.flush()
    return user


def change_role(repo: OrgRepository, membership_id: int, role: str, ip: str | None = None) -> Membership:
    repo.scope.require(Permission.MANAGE_TEAM)
    new_role = parse_role(role)
    membership = repo.get(Membership, membership_id)
    if Role.OWNER in (new_role, Role(membership.role)):
        repo.scope.require(Permission.GRANT_OWNER)
    if membership.role == Role.OWNER.value and new_role is not Role.OWNER and _owner_count(repo) <= 1:
        raise Conflict("This is the organisation's last owner. Make someone else an owner first.",
                       code="last_owner")
    old = membership.role
    membership.role = new_role.value
    audit.record(repo.session, "team.role_changed", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="membership", target_id=membership.id, ip=ip,
                 user_id=membership.user_id, old_role=old, new_role=new_role.value)
    return membership


def remove_member(repo: OrgRepository, membership_id: int, ip: str | None = None) -> None:
    repo.scope.require(Permission.MANAGE_TEAM)
    membership = repo.get(Membership, membership_id)
    if membership.role == Role.OWNER.value:
        repo.scope.require(Permission.GRANT_OWNER)
        if _owner_count(repo) <= 1:
            raise Conflict("You cannot remove the organisation's last owner. Make someone else an owner first.",
                           code="last_owner")
    user_id = membership.user_id
    repo.delete(membership)
    revoke_user_sessions(repo.session, user_id, repo.scope.organization_id)
    audit.record(repo.session, "team.member_removed", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="membership", target_id=membership_id, ip=ip,
                 user_id=user_id)
