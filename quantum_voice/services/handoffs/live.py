"""Queue changes as they happen, for the agent workspace: ``{"handoff_id": 4, "change": "accepted"}`` (or
``"presence"`` with a ``user_id``) on ``handoffs.{organization_id}`` once the change is committed."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from quantum_voice.core.pubsub import publish_after_commit


def channel(organization_id: int) -> str:
    return f"handoffs.{organization_id}"


def announce_after_commit(session: Session, organization_id: int, change: str, **ids: Any) -> None:
    """``change`` is requested / accepted / released / completed / abandoned / presence."""
    publish_after_commit(session, channel(organization_id), {**ids, "change": change})
