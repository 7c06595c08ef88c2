"""/api/handoffs and /api/agents: the hand-off queue, taking a caller, handing back to the AI, the disposition, and
the agents' presence. Agents and up work calls; the board of who is online is for managers and up.

No audio or workspace page exists yet (docs/handoff.md): these endpoints move the hand-off's state only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from quantum_voice.api.deps import Repo
from quantum_voice.models.handoff import Handoff
from quantum_voice.services.handoffs import disposition as dispositions
from quantum_voice.services.handoffs import presence, queue, takeover

router = APIRouter(prefix="/api/handoffs", tags=["handoffs"])
agents_router = APIRouter(prefix="/api/agents", tags=["handoffs"])


class HandoffOut(BaseModel):
    id: int
    conversation_id: int
    status: str
    reason: str
    reason_detail: str | None
    priority: int
    required_skill: str | None
    assigned_user_id: int | None
    disposition: str | None
    notes: str | None
    requested_at: datetime
    accepted_at: datetime | None
    ended_at: datetime | None
    waited_seconds: float
    campaign_id: int | None
    campaign_name: str | None
    lead: dict[str, Any] | None
    transcript: list[dict[str, Any]]


class CompleteIn(BaseModel):
    disposition: str = Field(max_length=40)
    callback_at: datetime | None = None
    notes: str | None = Field(default=None, max_length=dispositions.MAX_NOTES_CHARS)


class PresenceIn(BaseModel):
    status: str = Field(max_length=20)
    skills: list[Annotated[str, Field(max_length=presence.MAX_SKILL_CHARS)]] | None = Field(
        default=None, max_length=presence.MAX_SKILLS)
    max_concurrent: int | None = None


class PresenceOut(BaseModel):
    user_id: int
    status: str
    skills: list[str]
    max_concurrent: int
    last_heartbeat_at: datetime | None
    status_since: datetime | None


class AgentOut(BaseModel):
    user_id: int
    name: str
    email: str
    role: str
    status: str
    skills: list[str]
    max_concurrent: int
    active_calls: int
    last_heartbeat_at: datetime | None
    status_since: datetime | None


def _out(view: queue.HandoffView) -> HandoffOut:
    h = view.handoff
    return HandoffOut(id=h.id, conversation_id=h.conversation_id, status=h.status, reason=h.reason,
                      reason_detail=h.reason_detail, priority=h.priority, required_skill=h.required_skill,
                      assigned_user_id=h.assigned_user_id, disposition=h.disposition, notes=h.notes,
                      requested_at=h.requested_at, accepted_at=h.accepted_at, ended_at=h.ended_at,
                      waited_seconds=view.waited_seconds, campaign_id=view.campaign_id,
                      campaign_name=view.campaign_name, lead=view.lead, transcript=view.transcript)


def _one(repo: Repo, handoff: Handoff) -> HandoffOut:
    return _out(queue.view(repo, handoff))


@router.get("", response_model=list[HandoffOut])
def list_handoffs(repo: Repo, status: str | None = None) -> list[HandoffOut]:
    """``status=waiting``: the queue (waiting or offered), most urgent then longest waiting first. Any other
    status, or none: the newest first."""
    return [_out(v) for v in queue.list_handoffs(repo, status)]


@router.post("/{handoff_id}/accept", response_model=HandoffOut)
def accept(handoff_id: int, repo: Repo) -> HandoffOut:
    return _one(repo, takeover.accept(repo, handoff_id))


@router.post("/{handoff_id}/release", response_model=HandoffOut)
def release(handoff_id: int, repo: Repo) -> HandoffOut:
    return _one(repo, takeover.release(repo, handoff_id))


@router.post("/{handoff_id}/complete", response_model=HandoffOut)
def complete(handoff_id: int, body: CompleteIn, repo: Repo) -> HandoffOut:
    return _one(repo, dispositions.complete(repo, handoff_id, body.disposition, callback_at=body.callback_at,
                                            notes=body.notes))


@agents_router.put("/me/presence", response_model=PresenceOut)
def set_presence(body: PresenceIn, repo: Repo) -> PresenceOut:
    p = presence.set_presence(repo, body.status, skills=body.skills, max_concurrent=body.max_concurrent)
    return PresenceOut(user_id=p.user_id, status=p.status, skills=p.skills, max_concurrent=p.max_concurrent,
                       last_heartbeat_at=p.last_heartbeat_at, status_since=p.status_since)


@agents_router.get("", response_model=list[AgentOut])
def list_agents(repo: Repo) -> list[AgentOut]:
    return [AgentOut(**vars(row)) for row in presence.agent_board(repo)]
