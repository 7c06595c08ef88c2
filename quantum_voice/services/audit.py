"""Audit trail: who did what, when, from where."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from quantum_voice.models.system import AuditLog


def record(
    session: Session,
    action: str,
    *,
    organization_id: int | None = None,
    actor_user_id: int | None = None,
    target_type: str | None = None,
    target_id: Any = None,
    ip: str | None = None,
    **details: Any,
) -> AuditLog:
    entry = AuditLog(
        organization_id=organization_id,
        actor_user_id=actor_user_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        ip=ip,
        details=details,
    )
    session.add(entry)
    session.flush()
    return entry
