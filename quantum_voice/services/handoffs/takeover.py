"""A team member takes a waiting caller, or hands the call back to the AI.

``accept`` is a compare-and-set: one ``UPDATE … WHERE status IN ('waiting', 'offered')``, so when two agents press
Accept at once the database lets exactly one through (PostgreSQL's row lock makes the second re-check the status
after the first commits; SQLite takes one writer at a time); the other gets a 409 naming who took it. Nothing slow
runs between that update and the commit.

``release`` marks the hand-off ``completed`` with the disposition ``returned_to_ai`` and sets the conversation back
to ``active``; the call side then resumes the flow (``conversations.resume_after_handoff``), which this module does
not call.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import Conflict, PermissionDenied
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import Conversation, ConversationStatus
from quantum_voice.models.handoff import Handoff, HandoffStatus
from quantum_voice.services import audit
from quantum_voice.services.developer import webhook_events
from quantum_voice.services.handoffs.live import announce_after_commit
from quantum_voice.services.handoffs.presence import settle_load
from quantum_voice.services.handoffs.queue import OPEN
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository

RETURNED_TO_AI = "returned_to_ai"


def accept(repo: OrgRepository, handoff_id: int) -> Handoff:
    """The signed-in agent takes the caller. Raises ``Conflict`` when someone else already did, or the caller is no
    longer waiting."""
    repo.scope.require(Permission.WORK_CALLS)
    handoff = repo.get(Handoff, handoff_id)  # another organisation's: not found
    if repo.get(Conversation, handoff.conversation_id).status == ConversationStatus.ENDED.value:
        raise Conflict("This caller has hung up.", code="handoff_caller_gone")
    now = utcnow()
    taken = repo.session.connection().execute(
        update(Handoff)
        .where(col(Handoff.id) == handoff_id, col(Handoff.organization_id) == repo.scope.organization_id,
               col(Handoff.status).in_(OPEN))
        .values(status=HandoffStatus.ACCEPTED.value, assigned_user_id=repo.scope.user_id, accepted_at=now))
    repo.session.refresh(handoff)
    if taken.rowcount != 1:
        raise Conflict(_why_not_waiting(repo, handoff), code="handoff_taken")
    settle_load(repo.session, repo.scope.organization_id, repo.scope.user_id, now)  # type: ignore[arg-type]
    _audit(repo, "handoff.accepted", handoff)
    announce_after_commit(repo.session, repo.scope.organization_id, "accepted", handoff_id=handoff.id)
    return handoff


def release(repo: OrgRepository, handoff_id: int) -> Handoff:
    """Hand the call back to the AI: only the agent on the call, or a manager and up."""
    handoff = ongoing(repo, handoff_id)
    now = utcnow()
    handoff.status, handoff.disposition, handoff.ended_at = HandoffStatus.COMPLETED.value, RETURNED_TO_AI, now
    repo.session.add(handoff)
    conversation = repo.get(Conversation, handoff.conversation_id)
    if conversation.status == ConversationStatus.HANDED_OFF.value:
        conversation.status = ConversationStatus.ACTIVE.value
        repo.session.add(conversation)
    settle_load(repo.session, repo.scope.organization_id, handoff.assigned_user_id, now)  # type: ignore[arg-type]
    _audit(repo, "handoff.released", handoff)
    webhook_events.handoff_event(repo, handoff, "handoff.completed")
    announce_after_commit(repo.session, repo.scope.organization_id, "released", handoff_id=handoff.id)
    return handoff


def ongoing(repo: OrgRepository, handoff_id: int) -> Handoff:
    """An accepted hand-off the signed-in person may act on (the agent on it, or a manager and up), locked for the
    change on PostgreSQL so a release and a complete cannot both land."""
    repo.scope.require(Permission.WORK_CALLS)
    handoff = repo.session.exec(repo.select(Handoff).where(Handoff.id == handoff_id).with_for_update()).first()
    if handoff is None:
        repo.get(Handoff, handoff_id)  # raises the usual "not found"
    assert handoff is not None
    if handoff.status != HandoffStatus.ACCEPTED.value:
        raise Conflict(f"This call is not with an agent now (it is {handoff.status}).", code="handoff_not_ongoing")
    if handoff.assigned_user_id != repo.scope.user_id and not has_permission(repo.scope.role, Permission.MANAGE_LEADS):
        raise PermissionDenied("Only the agent on this call, or a manager, can hand it back or end it.")
    return handoff


def _why_not_waiting(repo: OrgRepository, handoff: Handoff) -> str:
    if handoff.status == HandoffStatus.ACCEPTED.value:
        if handoff.assigned_user_id == repo.scope.user_id:
            return "You already took this caller."
        user = repo.session.get(User, handoff.assigned_user_id) if handoff.assigned_user_id else None
        return f"This caller was already taken by {(user.full_name or user.email) if user else 'another agent'}."
    return f"This caller is no longer waiting (the hand-off is {handoff.status})."


def _audit(repo: OrgRepository, action: str, handoff: Handoff, **details) -> None:
    audit.record(repo.session, action, organization_id=repo.scope.organization_id, actor_user_id=repo.scope.user_id,
                 target_type="handoff", target_id=handoff.id, conversation_id=handoff.conversation_id, **details)
