"""What owners and admins read: the audit log and the email outbox of their organisation."""

from __future__ import annotations

from sqlmodel import or_, select

from quantum_voice.models.accounts import Membership, User
from quantum_voice.models.system import AuditLog, EmailMessage
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository


def audit_log(repo: OrgRepository, limit: int = 100, offset: int = 0) -> list[AuditLog]:
    repo.scope.require(Permission.VIEW_ADMIN)
    return repo.list(AuditLog, order_by=AuditLog.id.desc(), limit=limit, offset=offset)  # type: ignore[union-attr]


def outbox(repo: OrgRepository, limit: int = 100, offset: int = 0) -> list[EmailMessage]:
    """Mail sent for this organisation or to its members (sign-up and reset mails carry no organisation)."""
    repo.scope.require(Permission.VIEW_ADMIN)
    member_emails = select(User.email).join(Membership, Membership.user_id == User.id).where(
        Membership.organization_id == repo.scope.organization_id)
    stmt = (select(EmailMessage)
            .where(or_(EmailMessage.organization_id == repo.scope.organization_id,
                       EmailMessage.to_address.in_(member_emails)))  # type: ignore[attr-defined]
            .order_by(EmailMessage.id.desc()).offset(offset).limit(limit))  # type: ignore[union-attr]
    return list(repo.session.exec(stmt).all())
