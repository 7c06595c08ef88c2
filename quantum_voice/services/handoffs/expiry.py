"""Callers nobody took: a waiting hand-off older than its campaign's wait (``Campaign.settings
["handoff_wait_seconds"]``, default 45) becomes ``abandoned`` with the disposition ``unanswered`` and the note
"No one answered within N seconds." The call side (a worker tick, or the sidecar while the caller holds) runs
``expire_unanswered`` and tells each returned caller, offering a callback.

Each expiry is the same compare-and-set as ``takeover.accept``, so an agent accepting at that very moment either
wins (the request is not expired) or gets the usual 409.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from quantum_voice.core.clock import utcnow
from quantum_voice.models.calls import Conversation
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.handoff import Handoff, HandoffStatus
from quantum_voice.services import audit
from quantum_voice.services.handoffs.live import announce_after_commit
from quantum_voice.services.handoffs.queue import OPEN

DEFAULT_WAIT_SECONDS = 45
MIN_WAIT_SECONDS, MAX_WAIT_SECONDS = 5, 3_600
UNANSWERED = "unanswered"
MAX_PER_RUN = 500


def wait_seconds(campaign: Campaign | None) -> int:
    """The campaign's wait for a person; the default when unset or out of range."""
    value = (campaign.settings or {}).get("handoff_wait_seconds") if campaign else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return DEFAULT_WAIT_SECONDS
    return int(value) if MIN_WAIT_SECONDS <= value <= MAX_WAIT_SECONDS else DEFAULT_WAIT_SECONDS


def expire_unanswered(session: Session, now: datetime | None = None) -> list[Handoff]:
    """Abandon every organisation's waiting hand-offs past their campaign's wait; returns them (the caller side
    reacts). The caller's session commits."""
    now = now or utcnow()
    candidates = session.exec(
        select(Handoff, Campaign)
        .join(Conversation, col(Conversation.id) == Handoff.conversation_id)
        .join(Campaign, col(Campaign.id) == Conversation.campaign_id, isouter=True)
        .where(col(Handoff.status).in_(OPEN),
               col(Handoff.requested_at) <= now - timedelta(seconds=MIN_WAIT_SECONDS))
        .order_by(col(Handoff.requested_at)).limit(MAX_PER_RUN)).all()
    return [handoff for handoff, campaign in candidates if expire_overdue(session, handoff, campaign, now)]


def expire_overdue(session: Session, handoff: Handoff, campaign: Campaign | None, now: datetime) -> bool:
    """Abandon one waiting hand-off if it is past its campaign's wait; whether it was (an agent may have taken it
    in the meantime)."""
    wait = wait_seconds(campaign)
    if now - handoff.requested_at < timedelta(seconds=wait):
        return False
    note = f"No one answered within {wait} seconds."
    done = session.connection().execute(
        update(Handoff).where(col(Handoff.id) == handoff.id, col(Handoff.status).in_(OPEN))
        .values(status=HandoffStatus.ABANDONED.value, disposition=UNANSWERED, notes=note, ended_at=now))
    session.refresh(handoff)
    if done.rowcount != 1:
        return False  # an agent took it in the meantime
    audit.record(session, "handoff.abandoned", organization_id=handoff.organization_id, target_type="handoff",
                 target_id=handoff.id, conversation_id=handoff.conversation_id, reason="no one answered",
                 waited_seconds=wait)
    announce_after_commit(session, handoff.organization_id, "abandoned", handoff_id=handoff.id)
    return True

