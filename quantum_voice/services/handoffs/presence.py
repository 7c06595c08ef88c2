"""Agents' presence: available, busy or away, with skills and how many calls they take at once.

The workspace sends ``set_presence`` when the agent changes it and again as a heartbeat (every ~20 s); an agent
whose last heartbeat is older than ``STALE_AFTER`` counts as offline, whatever the row says (a closed laptop sends
no "offline"). ``busy`` is also set for the agent when an accepted call fills their capacity, and lifted when a
call ends (``settle_load``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.accounts import Membership, User
from quantum_voice.models.handoff import AgentPresence, Handoff, HandoffStatus, PresenceStatus
from quantum_voice.services import audit
from quantum_voice.services.handoffs.live import announce_after_commit
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository

STALE_AFTER = timedelta(seconds=60)  # three missed heartbeats
MAX_SKILLS = 20
MAX_SKILL_CHARS = 60
MAX_CONCURRENT = 10
_SETTABLE = {PresenceStatus.AVAILABLE.value, PresenceStatus.BUSY.value, PresenceStatus.AWAY.value,
             PresenceStatus.OFFLINE.value}


def set_presence(repo: OrgRepository, status: str, *, skills: list[str] | None = None,
                 max_concurrent: int | None = None) -> AgentPresence:
    """The signed-in agent's status (and, when given, skills and capacity); also the heartbeat. A change of status,
    skills or capacity is audited and announced; a bare heartbeat is not."""
    repo.scope.require(Permission.WORK_CALLS)
    if status not in _SETTABLE:
        raise ValidationFailed(f"Presence is one of {', '.join(sorted(_SETTABLE))}.", field="status")
    clean_skills = _clean_skills(skills) if skills is not None else None
    if max_concurrent is not None and not 1 <= max_concurrent <= MAX_CONCURRENT:
        raise ValidationFailed(f"Take between 1 and {MAX_CONCURRENT} calls at once.", field="max_concurrent")
    now = utcnow()
    presence = presence_of(repo.session, repo.scope.organization_id, repo.scope.user_id)  # type: ignore[arg-type]
    if presence is None:
        presence = repo.add(AgentPresence(organization_id=repo.scope.organization_id, user_id=repo.scope.user_id,
                                          status=PresenceStatus.OFFLINE.value))
    before = (effective_status(presence, now), list(presence.skills), presence.max_concurrent)
    if status != before[0]:
        presence.status_since = now
    presence.status = status
    if clean_skills is not None:
        presence.skills = clean_skills
    if max_concurrent is not None:
        presence.max_concurrent = max_concurrent
    presence.last_heartbeat_at = now
    repo.session.add(presence)
    repo.session.flush()
    if status == PresenceStatus.AVAILABLE.value:  # "available" with every slot taken is busy (a heartbeat mid-call)
        settle_load(repo.session, repo.scope.organization_id, presence.user_id, now)
    if before != (presence.status, list(presence.skills), presence.max_concurrent):
        audit.record(repo.session, "handoff.presence", organization_id=repo.scope.organization_id,
                     actor_user_id=repo.scope.user_id, target_type="user", target_id=repo.scope.user_id,
                     status=presence.status, skills=presence.skills, max_concurrent=presence.max_concurrent)
        announce_after_commit(repo.session, repo.scope.organization_id, "presence", user_id=repo.scope.user_id)
    return presence


def effective_status(presence: AgentPresence, now: datetime) -> str:
    """The row's status, or offline when the heartbeat stopped."""
    if presence.last_heartbeat_at is None or now - presence.last_heartbeat_at > STALE_AFTER:
        return PresenceStatus.OFFLINE.value
    return presence.status


def presence_of(session: Session, organization_id: int, user_id: int) -> AgentPresence | None:
    return session.exec(select(AgentPresence).where(AgentPresence.organization_id == organization_id,
                                                    AgentPresence.user_id == user_id)).first()


def active_calls(session: Session, organization_id: int) -> dict[int, int]:
    """How many accepted (ongoing) hand-offs each agent holds."""
    rows = session.exec(select(Handoff.assigned_user_id, func.count()).where(
        Handoff.organization_id == organization_id, Handoff.status == HandoffStatus.ACCEPTED.value,
        col(Handoff.assigned_user_id).is_not(None)).group_by(Handoff.assigned_user_id)).all()
    return {int(user_id): int(n) for user_id, n in rows}


def settle_load(session: Session, organization_id: int, user_id: int, now: datetime) -> None:
    """Busy when the agent's calls fill their capacity, available again when one ends (an agent who chose away or
    offline stays so)."""
    presence = presence_of(session, organization_id, user_id)
    if presence is None or presence.status not in (PresenceStatus.AVAILABLE.value, PresenceStatus.BUSY.value):
        return
    session.flush()
    load = active_calls(session, organization_id).get(user_id, 0)
    status = PresenceStatus.BUSY.value if load >= presence.max_concurrent else PresenceStatus.AVAILABLE.value
    if status != presence.status:
        presence.status, presence.status_since = status, now
        session.add(presence)
        announce_after_commit(session, organization_id, "presence", user_id=user_id)


@dataclass(frozen=True)
class AgentBoardRow:
    user_id: int
    name: str
    email: str
    role: str
    status: str  # effective: offline when the heartbeat stopped
    skills: list[str]
    max_concurrent: int
    active_calls: int
    last_heartbeat_at: datetime | None
    status_since: datetime | None


def agent_board(repo: OrgRepository) -> list[AgentBoardRow]:
    """Everyone in the organisation who can take calls, with their presence (managers and up)."""
    repo.scope.require(Permission.MANAGE_LEADS)
    now = utcnow()
    org_id = repo.scope.organization_id
    members = repo.session.exec(select(Membership, User).join(User, col(User.id) == Membership.user_id).where(
        Membership.organization_id == org_id).order_by(User.email)).all()
    presences = {p.user_id: p for p in repo.list(AgentPresence, limit=10_000)}
    load = active_calls(repo.session, org_id)
    rows = []
    for membership, user in members:
        if not has_permission(membership.role, Permission.WORK_CALLS):
            continue
        p = presences.get(user.id)
        rows.append(AgentBoardRow(
            user_id=user.id, name=user.full_name or user.email, email=user.email, role=membership.role,
            status=effective_status(p, now) if p else PresenceStatus.OFFLINE.value,
            skills=list(p.skills) if p else [], max_concurrent=p.max_concurrent if p else 1,
            active_calls=load.get(user.id, 0), last_heartbeat_at=p.last_heartbeat_at if p else None,
            status_since=p.status_since if p else None))
    return rows


def _clean_skills(skills: list[str]) -> list[str]:
    if len(skills) > MAX_SKILLS:
        raise ValidationFailed(f"List at most {MAX_SKILLS} skills.", field="skills")
    cleaned: list[str] = []
    for skill in skills:
        skill = (skill or "").strip().lower()
        if not skill:
            continue
        if len(skill) > MAX_SKILL_CHARS:
            raise ValidationFailed(f"A skill can be at most {MAX_SKILL_CHARS} characters.", field="skills")
        if skill not in cleaned:
            cleaned.append(skill)
    return cleaned
