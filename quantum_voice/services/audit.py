"""Audit trail: who did what, when, from where."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from quantum_voice.models.system import AuditLog

_ACTOR = "audit_actor"


def attribute_to(session: Session, **actor: Any) -> None:
    """Every entry ``session`` records from now on without a person names ``actor`` in its details (an API key:
    ``api_key="qv_live_ab12…"``), so the services need not know what signed the request in."""
    session.info[_ACTOR] = actor


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
    if actor_user_id is None and _ACTOR in session.info:
        details = {**session.info[_ACTOR], **details}
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
