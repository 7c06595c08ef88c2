"""What owners and admins read: the audit log and the email outbox of their organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import or_, select

from quantum_voice.models.accounts import Membership, User
from quantum_voice.models.system import AuditLog, EmailMessage
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository


@dataclass(frozen=True)
class AuditEntry:
    id: int
    action: str
    actor_user_id: int | None
    actor_email: str | None  # kept readable after the person leaves the organisation
    target_type: str | None
    target_id: str | None
    ip: str | None
    details: dict[str, Any]
    created_at: datetime


def audit_log(repo: OrgRepository, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
    repo.scope.require(Permission.VIEW_ADMIN)
    stmt = (select(AuditLog, User.email).outerjoin(User, User.id == AuditLog.actor_user_id)
            .where(AuditLog.organization_id == repo.scope.organization_id).order_by(AuditLog.id.desc()).offset(offset).limit(limit))  # type: ignore[union-attr]
    return [AuditEntry(e.id, e.action, e.actor_user_id, email, e.target_type, e.target_id, e.ip, e.details,
                       e.created_at) for e, email in repo.session.exec(stmt).all()]


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
