"""Who should get the next caller: agents who are available (fresh heartbeat, room for another call, still allowed
to take calls), those with the hand-off's skill first, then the one idle the longest.

An agent's idle spell starts at the later of: the end (or start) of their latest hand-off, and when their status
last changed (coming online, or going from busy back to available). The workspace offers the caller to the first
agent; whoever accepts first wins (``takeover.accept``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import Session, col, func, select

from quantum_voice.core.clock import utcnow
from quantum_voice.models.accounts import Membership
from quantum_voice.models.handoff import AgentPresence, Handoff, PresenceStatus
from quantum_voice.services.handoffs.presence import active_calls, effective_status
from quantum_voice.services.permissions import Permission, has_permission

_LONG_AGO = datetime.min.replace(tzinfo=None)


@dataclass(frozen=True)
class AgentCandidate:
    user_id: int
    skills: list[str]
    max_concurrent: int
    active_calls: int
    idle_since: datetime | None
    has_skill: bool


def available_agents(session: Session, organization_id: int, skill: str | None = None, *,
                     now: datetime | None = None) -> list[AgentCandidate]:
    """Agents who could take a caller now, best first. With ``skill``, agents who have it come first; the others
    follow, so a caller is never refused only for want of a skill."""
    now = now or utcnow()
    wanted = (skill or "").strip().lower() or None
    roles = dict(session.exec(select(Membership.user_id, Membership.role).where(
        Membership.organization_id == organization_id)).all())
    presences = session.exec(select(AgentPresence).where(
        AgentPresence.organization_id == organization_id,
        AgentPresence.status == PresenceStatus.AVAILABLE.value)).all()
    load = active_calls(session, organization_id)
    last_call = _last_call_times(session, organization_id)
    found = []
    for p in presences:
        role = roles.get(p.user_id)
        if role is None or not has_permission(role, Permission.WORK_CALLS):
            continue
        if effective_status(p, now) != PresenceStatus.AVAILABLE.value or load.get(p.user_id, 0) >= p.max_concurrent:
            continue
        idle_since = max((t for t in (p.status_since, last_call.get(p.user_id)) if t is not None), default=None)
        found.append(AgentCandidate(user_id=p.user_id, skills=list(p.skills), max_concurrent=p.max_concurrent,
                                    active_calls=load.get(p.user_id, 0), idle_since=idle_since,
                                    has_skill=wanted is None or wanted in p.skills))
    found.sort(key=lambda a: (not a.has_skill, _sort_time(a.idle_since), a.user_id))
    return found


def anyone_available(session: Session, organization_id: int, skill: str | None = None, *,
                     now: datetime | None = None) -> bool:
    """Whether any agent could take a caller now (with or without the skill): when not, the caller side offers a
    callback instead of a wait."""
    return bool(available_agents(session, organization_id, skill, now=now))


def _last_call_times(session: Session, organization_id: int) -> dict[int, datetime]:
    """Each agent's latest hand-off moment (accepted or ended)."""
    rows = session.exec(select(Handoff.assigned_user_id, func.max(Handoff.accepted_at), func.max(Handoff.ended_at))
                        .where(Handoff.organization_id == organization_id, col(Handoff.assigned_user_id).is_not(None))
                        .group_by(Handoff.assigned_user_id)).all()
    out: dict[int, datetime] = {}
    for user_id, accepted, ended in rows:
        times = [_aware(t) for t in (accepted, ended) if t is not None]
        if times:
            out[int(user_id)] = max(times)
    return out


def _aware(value) -> datetime:
    """Aggregates bypass the column type on some drivers: the stored naive UTC (or a string on SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _sort_time(value: datetime | None) -> tuple[int, datetime]:
    return (0, _LONG_AGO) if value is None else (1, value.replace(tzinfo=None))
