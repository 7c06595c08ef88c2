"""Lead changes as they happen, for pages that show leads (the lead list, a lead's page).

A message ``{"lead_id": 12, "change": "created"}`` goes to the organisation's channel once the change is committed
(``core/pubsub``: in-process, or Redis so the voice sidecar's leads reach the app). A page that may miss messages
(no Redis between the sidecar and the app) also compares ``people.newest_change`` now and then.
"""

from __future__ import annotations

from sqlmodel import Session

from quantum_voice.core.pubsub import publish_after_commit


def channel(organization_id: int) -> str:
    return f"leads.{organization_id}"


def announce_after_commit(session: Session, organization_id: int, lead_id: int, change: str) -> None:
    """Publish the change when ``session`` commits (never for a rolled-back one)."""
    publish_after_commit(session, channel(organization_id), {"lead_id": lead_id, "change": change})
