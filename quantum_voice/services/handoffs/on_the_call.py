"""The call's side of a hand-off: what the agents' queue did since the call's last step, told to the flow engine.

The call runner (``conversations``) asks ``news`` before each caller turn and on each tick while the call is
handed off. The hand-off row is the truth (the workspace changes it: accept, release, complete); the engine's state
remembers how far the caller has been told (``HandoffRequest.phase``):

| the hand-off row | the engine's phase | the caller hears |
|---|---|---|
| waiting, past the campaign's wait | waiting | it is expired here (``expiry.expire_overdue``): "no one is free", and the callback question |
| accepted | waiting | "I'm putting you through to Alex now." (then the AI is silent) |
| completed, handed back to the AI | waiting / connected | the AI picks the call up where it was |
| completed, the agent's audio gone (``give_back_unattended``) | connected | "I'm sorry, I've lost the connection to Alex. I'm back with you.", and the AI picks up |
| completed with a disposition | waiting / connected | the flow's goodbye, and the call ends |
| abandoned (expired elsewhere) | waiting | as past the wait |

``someone_free`` is what the engine asks when a Dispatch node is entered: is any agent available now (with the
node's skill, or any other)? Test calls (the simulator) never wait for a person.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col

from quantum_voice.core.clock import utcnow
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import Conversation, ConversationStatus
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.handoff import Handoff, HandoffStatus
from quantum_voice.services import audit
from quantum_voice.services.flows import engine
from quantum_voice.services.flows.schema import FlowDefinition
from quantum_voice.services.flows.state import FlowState, StepResult
from quantum_voice.services.flows.step import CallContext
from quantum_voice.services.handoffs import expiry, routing
from quantum_voice.services.handoffs.live import announce_after_commit
from quantum_voice.services.handoffs.presence import settle_load
from quantum_voice.services.handoffs.queue import OPEN
from quantum_voice.services.handoffs.takeover import RETURNED_TO_AI
from quantum_voice.services.tenancy import OrgRepository

AGENT_DISCONNECTED = "agent_disconnected"
LOST_THE_AGENT = "I'm sorry, I've lost the connection to {agent}. I'm back with you."


def someone_free(repo: OrgRepository, conversation: Conversation) -> Callable[[str | None], bool] | None:
    if conversation.is_test:
        return None

    def free(skill: str | None) -> bool:
        return routing.anyone_available(repo.session, repo.scope.organization_id, skill)
    return free


def news(repo: OrgRepository, conversation: Conversation, campaign: Campaign | None, flow: FlowDefinition,
         state: FlowState, ctx: CallContext) -> StepResult | None:
    """The step that tells the caller what the queue did; ``None`` when nothing changed (or the call is not held)."""
    request = state.handoff
    if state.status != "handed_off" or request is None:
        return None
    handoff = latest_handoff(repo, conversation.id)
    if handoff is None:
        return None
    if handoff.status in OPEN:
        if not expiry.expire_overdue(repo.session, handoff, campaign, ctx.now):
            return None
        return engine.handoff_unanswered(flow, state, ctx)
    if handoff.status == HandoffStatus.ACCEPTED.value:
        if request.phase != "waiting":
            return None
        return engine.handoff_connected(flow, state, ctx, agent_first_name(repo, handoff))
    if handoff.status == HandoffStatus.COMPLETED.value:
        if handoff.disposition == RETURNED_TO_AI:
            return engine.resume_after_handoff(flow, state, ctx)
        if handoff.disposition == AGENT_DISCONNECTED:
            return engine.resume_after_handoff(flow, state, ctx, line=LOST_THE_AGENT.format(
                agent=request.agent or "my colleague"))
        return engine.handoff_completed(flow, state, ctx)
    if handoff.status == HandoffStatus.ABANDONED.value:
        return engine.handoff_unanswered(flow, state, ctx)
    return None


def give_back_unattended(repo: OrgRepository, conversation_id: int, seconds: float) -> bool:
    """The person who took the call has had no audio on it for ``seconds`` (their browser dropped, or never
    connected): the call goes back to the AI, which tells the caller, and the hand-off ends as
    ``agent_disconnected``. Whether it did (not when the hand-off had already moved on)."""
    handoff = latest_handoff(repo, conversation_id)
    if handoff is None:
        return False
    now = utcnow()
    done = repo.session.connection().execute(
        update(Handoff).where(col(Handoff.id) == handoff.id, col(Handoff.status) == HandoffStatus.ACCEPTED.value)
        .values(status=HandoffStatus.COMPLETED.value, disposition=AGENT_DISCONNECTED, ended_at=now,
                notes=f"The agent's audio was not connected for {seconds:.0f} seconds; the call went back to the AI."))
    repo.session.refresh(handoff)
    if done.rowcount != 1:
        return False
    conversation = repo.session.get(Conversation, conversation_id)
    if conversation is not None and conversation.status == ConversationStatus.HANDED_OFF.value:
        conversation.status = ConversationStatus.ACTIVE.value
        repo.session.add(conversation)
    if handoff.assigned_user_id is not None:
        settle_load(repo.session, handoff.organization_id, handoff.assigned_user_id, now)
    audit.record(repo.session, "handoff.released", organization_id=handoff.organization_id, target_type="handoff",
                 target_id=handoff.id, conversation_id=conversation_id, reason="agent_disconnected")
    announce_after_commit(repo.session, handoff.organization_id, "released", handoff_id=handoff.id)
    return True


def latest_handoff(repo: OrgRepository, conversation_id: int) -> Handoff | None:
    return repo.session.exec(repo.select(Handoff).where(Handoff.conversation_id == conversation_id)
                             .order_by(col(Handoff.id).desc()).limit(1)).first()


def agent_first_name(repo: OrgRepository, handoff: Handoff) -> str:
    user = repo.session.get(User, handoff.assigned_user_id) if handoff.assigned_user_id else None
    name = (user.full_name or "").strip() if user else ""
    return name.split()[0][:40] if name else ""


def missed(repo: OrgRepository, conversation_id: int) -> list[Handoff]:
    """The call's requests for a person that no one took (no one available, no one answered, the caller left)."""
    return list(repo.session.exec(repo.select(Handoff).where(
        Handoff.conversation_id == conversation_id, Handoff.status == HandoffStatus.ABANDONED.value)))


def note_callback(repo: OrgRepository, conversation_id: int, when: str) -> None:
    """The caller said when the team could get back to them: kept on the call's latest hand-off."""
    handoff = latest_handoff(repo, conversation_id)
    if handoff is None:
        return
    line = f"The caller would like to hear back: {when}"
    handoff.notes = f"{handoff.notes}\n{line}" if handoff.notes else line
    repo.session.add(handoff)


def abandon_on_hang_up(repo: OrgRepository, conversation_id: int, now: datetime) -> None:
    """The call ended while the caller was still waiting: the request leaves the queue."""
    handoff = latest_handoff(repo, conversation_id)
    if handoff is not None and handoff.status in OPEN:
        handoff.status, handoff.disposition, handoff.ended_at = HandoffStatus.ABANDONED.value, "caller_left", now
        handoff.notes = "The caller hung up while waiting."
        repo.session.add(handoff)
        announce_after_commit(repo.session, handoff.organization_id, "abandoned", handoff_id=handoff.id)
