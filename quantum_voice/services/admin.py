"""What owners and admins read: the audit log and the email outbox of their organisation.

The outbox holds the organisation's own mail (invitations, notifications), never a member's sign-up or password
reset mail, and every secret link in it is masked: an admin who could read a teammate's reset or invitation link
could take over that account (and a person in two organisations would be exposed to both).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select

from quantum_voice.models.accounts import User
from quantum_voice.models.system import AuditLog, EmailMessage
from quantum_voice.services.email import mask_secrets
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

    @property
    def actor(self) -> str:
        """Who did it, in words: the person's email, else the API key that signed the request in."""
        if self.actor_email:
            return self.actor_email
        if self.actor_user_id:
            return f"user #{self.actor_user_id}"
        key = (self.details or {}).get("api_key")
        return f"api key {key}" if key else ""


def audit_log(repo: OrgRepository, limit: int = 100, offset: int = 0, before_id: int | None = None) -> list[AuditEntry]:
    repo.scope.require(Permission.VIEW_ADMIN)
    stmt = (select(AuditLog, User.email).outerjoin(User, User.id == AuditLog.actor_user_id)
            .where(AuditLog.organization_id == repo.scope.organization_id).order_by(AuditLog.id.desc()).offset(offset).limit(limit))  # type: ignore[union-attr]
    if before_id is not None:  # the API's cursor: older than the last entry seen
        stmt = stmt.where(AuditLog.id < before_id)
    return [AuditEntry(e.id, e.action, e.actor_user_id, email, e.target_type, e.target_id, e.ip, e.details,
                       e.created_at) for e, email in repo.session.exec(stmt).all()]


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    to_address: str
    subject: str
    kind: str
    status: str
    body_text: str  # secret links masked
    error: str | None
    created_at: datetime


def outbox(repo: OrgRepository, limit: int = 100, offset: int = 0, before_id: int | None = None) -> list[OutboxEntry]:
    """Mail sent for this organisation, secret links masked (sign-up and reset mails belong to no organisation)."""
    repo.scope.require(Permission.VIEW_ADMIN)
    stmt = (select(EmailMessage).where(EmailMessage.organization_id == repo.scope.organization_id)
            .order_by(EmailMessage.id.desc()).offset(offset).limit(limit))  # type: ignore[union-attr]
    if before_id is not None:  # the API's cursor: older than the last message seen
        stmt = stmt.where(EmailMessage.id < before_id)
    return [OutboxEntry(m.id, m.to_address, m.subject, m.kind, m.status, mask_secrets(m.body_text),
                        mask_secrets(m.error) or None, m.created_at) for m in repo.session.exec(stmt).all()]
