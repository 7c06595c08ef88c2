"""The end of a call a team member took: the disposition, onto the hand-off and the lead.

| disposition     | the lead's status                         | score                                   |
|-----------------|-------------------------------------------|-----------------------------------------|
| qualified       | qualified (a won lead stays won)          | raised to the flow's hot threshold      |
| not_interested  | lost (a won lead stays won)               | unchanged                               |
| callback        | contacted, if it was new                  | unchanged; ``callback_at`` (future) kept |
| no_answer       | contacted, if it was new                  | unchanged                               |

A person who says yes to a team member is at least as good as the hottest lead the rules could find, so
"qualified" lifts the score to the hot band's lower edge (never lowers it) and adds a ``qualified_by_agent`` line
to the breakdown. The lead's history gets one ``handoff`` line with the disposition, the status change and the
notes. Leads of refused consent (no lead) or erased ones are left alone.

Completing does not end the conversation: the call side hangs up (``conversations.end_conversation``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import NotFound, ValidationFailed
from quantum_voice.models.calls import Conversation
from quantum_voice.models.handoff import Handoff, HandoffStatus
from quantum_voice.models.leads import ActivityKind, Lead, LeadBand, LeadStatus
from quantum_voice.services.conversations import flow_of
from quantum_voice.services.developer import webhook_events
from quantum_voice.services.handoffs import takeover
from quantum_voice.services.handoffs.live import announce_after_commit
from quantum_voice.services.handoffs.presence import settle_load
from quantum_voice.services.leads import live as lead_live
from quantum_voice.services.leads.people import record
from quantum_voice.services.leads.scoring import ScoreBands
from quantum_voice.services.tenancy import OrgRepository

MAX_NOTES_CHARS = 2_000
QUALIFIED, NOT_INTERESTED, CALLBACK, NO_ANSWER = "qualified", "not_interested", "callback", "no_answer"
DISPOSITIONS = (QUALIFIED, NOT_INTERESTED, CALLBACK, NO_ANSWER)
_WON = LeadStatus.WON.value


def complete(repo: OrgRepository, handoff_id: int, disposition: str, *, callback_at: datetime | None = None,
             notes: str | None = None) -> Handoff:
    now = utcnow()
    _check(disposition, callback_at, notes, now)
    handoff = takeover.ongoing(repo, handoff_id)
    notes = (notes or "").strip() or None
    handoff.status, handoff.disposition, handoff.ended_at = HandoffStatus.COMPLETED.value, disposition, now
    handoff.notes = notes
    repo.session.add(handoff)
    lead = _lead_of(repo, handoff)
    if lead is not None:
        _apply_to_lead(repo, lead, handoff, callback_at, now)
    settle_load(repo.session, repo.scope.organization_id, handoff.assigned_user_id, now)  # type: ignore[arg-type]
    takeover._audit(repo, "handoff.completed", handoff, disposition=disposition,
                    callback_at=callback_at.isoformat() if callback_at else None)
    webhook_events.handoff_event(repo, handoff, "handoff.completed")
    announce_after_commit(repo.session, repo.scope.organization_id, "completed", handoff_id=handoff.id)
    return handoff


def _check(disposition: str, callback_at: datetime | None, notes: str | None, now: datetime) -> None:
    if disposition not in DISPOSITIONS:
        raise ValidationFailed(f"A disposition is one of {', '.join(DISPOSITIONS)}.", field="disposition")
    if disposition == CALLBACK:
        if callback_at is None:
            raise ValidationFailed("Say when to call back.", field="callback_at")
        if callback_at.tzinfo is None:
            raise ValidationFailed("Give the callback time with its time zone (e.g. 2026-05-01T15:00:00Z).",
                                   field="callback_at")
        if callback_at <= now:
            raise ValidationFailed("The callback time must be in the future.", field="callback_at")
    elif callback_at is not None:
        raise ValidationFailed("A callback time goes with the 'callback' disposition only.", field="callback_at")
    if notes is not None and len(notes) > MAX_NOTES_CHARS:
        raise ValidationFailed(f"Notes can be at most {MAX_NOTES_CHARS:,} characters.", field="notes")


def _lead_of(repo: OrgRepository, handoff: Handoff) -> Lead | None:
    lead_id = handoff.lead_id or repo.get(Conversation, handoff.conversation_id).lead_id
    found = repo.list(Lead, Lead.id == lead_id, limit=1) if lead_id else []
    return found[0] if found and found[0].erased_at is None else None


def _new_status(current: str, disposition: str) -> str:
    if current == _WON:
        return current
    if disposition == QUALIFIED:
        return LeadStatus.QUALIFIED.value
    if disposition == NOT_INTERESTED:
        return LeadStatus.LOST.value
    return LeadStatus.CONTACTED.value if current == LeadStatus.NEW.value else current


def _apply_to_lead(repo: OrgRepository, lead: Lead, handoff: Handoff, callback_at: datetime | None,
                   now: datetime) -> None:
    details: dict[str, Any] = {"handoff_id": handoff.id, "disposition": handoff.disposition}
    status = _new_status(lead.status, handoff.disposition or "")
    if status != lead.status:
        details.update({"from": lead.status, "to": status})
        lead.status = status
    if callback_at is not None:
        details["callback_at"] = callback_at.isoformat()
    hot = _hot_threshold(repo, handoff)
    if handoff.disposition == QUALIFIED and lead.score < hot:
        details["score"] = {"from": lead.score, "to": hot}
        lead.score_breakdown = [*lead.score_breakdown, {"rule": "qualified_by_agent",
                                                        "label": "Qualified by a team member",
                                                        "points": hot - lead.score}]
        lead.score, lead.band = hot, LeadBand.HOT.value
    record(repo, lead, ActivityKind.HANDOFF, text=handoff.notes, details=details)
    lead.updated_at = now
    repo.session.add(lead)
    lead_live.announce_after_commit(repo.session, lead.organization_id, lead.id, "updated")
    changes = {key: {"from": details["from"], "to": details["to"]} for key in ("status",) if "from" in details}
    if "score" in details:
        changes["score"] = details["score"]
    webhook_events.lead_event(repo, lead, "lead.updated", changes=changes, handoff_id=handoff.id)


def _hot_threshold(repo: OrgRepository, handoff: Handoff) -> int:
    """The hot band of the flow the call ran (its scoring settings), else the default bands."""
    try:
        return flow_of(repo, repo.get(Conversation, handoff.conversation_id)).scoring.bands.hot
    except (NotFound, PydanticValidationError, KeyError):  # an unreadable flow must not block the disposition
        return ScoreBands().hot
