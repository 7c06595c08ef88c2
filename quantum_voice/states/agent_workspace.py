"""/agent: the signed-in agent's presence (also the heartbeat), the live queue of callers waiting for a person with
an alert when one arrives, Accept, and "My calls today". The call panel of a taken call is its own state
(states/agent_call.py). Thin: handoffs.presence, handoffs.queue, handoffs.takeover."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import reflex as rx

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import DomainError
from quantum_voice.models.handoff import PresenceStatus
from quantum_voice.services.handoffs import presence, queue, takeover
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.session import SessionState, client_connected

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0  # the waiting times tick this often
QUEUE_EVERY = 2  # ticks between two looks at the queue
HEARTBEAT_EVERY = 20  # ticks between two heartbeats (presence.STALE_AFTER is 60 s)
TODAY_EVERY = 15  # ticks between two looks at "My calls today"
NEW_FOR_SECONDS = 15.0  # a caller who just arrived stays highlighted this long
CHOOSABLE = (PresenceStatus.AVAILABLE.value, PresenceStatus.AWAY.value, PresenceStatus.OFFLINE.value)
PAGE = "/agent"
REASONS = {"request": "Asked for a person", "keyword": "Said a keyword", "duration": "Long call",
           "low_confidence": "The AI was unsure"}
SPEAKERS = {"caller": "Caller", "agent": "AI", "system": "System"}


@dataclass
class TurnRow:
    speaker: str = ""  # caller | agent (the AI) | human_agent | system
    who: str = ""  # Caller / AI / the team member's name
    text: str = ""


@dataclass
class QueueRow:
    id: int = 0
    campaign: str = ""
    reason: str = ""
    detail: str = ""
    skill: str = ""
    priority: int = 0
    has_lead: bool = False
    lead_name: str = ""
    lead_email: str = ""
    score: int = 0
    band: str = ""
    turns: list[TurnRow] = field(default_factory=list)
    is_new: bool = False


@dataclass
class TodayRow:
    id: int = 0
    time: str = ""  # HH:MM UTC
    campaign: str = ""
    lead: str = ""
    disposition: str = ""  # "on the call" while it goes on
    talk: str = ""


def duration(seconds: float) -> str:
    """1:05, 12:40, 1:02:03."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def turn_rows(turns: list[dict], agent_name: str) -> list[TurnRow]:
    return [TurnRow(t["speaker"], agent_name if t["speaker"] == "human_agent" else SPEAKERS.get(t["speaker"],
                    t["speaker"].capitalize()), t["text"]) for t in turns]


def queue_row(view: queue.HandoffView, agent_name: str, is_new: bool) -> QueueRow:
    h, lead = view.handoff, view.lead or {}
    return QueueRow(id=h.id, campaign=view.campaign_name or "No campaign", reason=REASONS.get(h.reason, h.reason),
                    detail=h.reason_detail or "", skill=h.required_skill or "", priority=h.priority,
                    has_lead=view.lead is not None, lead_name=lead.get("name") or "",
                    lead_email=lead.get("email") or "",
                    score=lead.get("score") or 0, band=lead.get("band") or "",
                    turns=turn_rows(view.transcript, agent_name), is_new=is_new)


def today_row(call: queue.AgentCall) -> TodayRow:
    h = call.handoff
    outcome = (h.disposition or "").replace("_", " ") if h.status != "accepted" else "on the call"
    return TodayRow(id=h.id, time=h.accepted_at.strftime("%H:%M") if h.accepted_at else "",
                    campaign=call.campaign_name or "", lead=call.lead_name or "", disposition=outcome,
                    talk=duration(call.talk_seconds))


def queue_alert_script(count: int, arrived: int) -> str:
    """The tab title's count, and a short beep when someone arrived (assets/agent_audio.js)."""
    return f"window.QVAgentAudio && window.QVAgentAudio.queueAlert({int(count)}, {int(arrived)})"


class AgentWorkspaceState(SessionState):
    loaded: bool = False
    status: str = PresenceStatus.OFFLINE.value  # as others see it: offline when the heartbeat stopped; busy when full
    chosen: str = PresenceStatus.OFFLINE.value  # what the agent chose (and the heartbeat sends)
    skills: str = ""  # comma-separated, as edited
    capacity: str = "1"
    presence_error: str = ""
    rows: list[QueueRow] = []
    waited: dict[str, str] = {}  # hand-off id → "1:05", ticking
    accept_error: str = ""
    today: list[TodayRow] = []
    _requested: dict[int, float] = {}  # hand-off id → requested_at (epoch seconds)
    _first_seen: dict[int, float] = {}  # hand-off id → when this page first showed it (monotonic)
    _watch_round: int = 0

    # ------------------------------------------------------------ loading

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        if not has_permission(self.role, Permission.WORK_CALLS):
            return rx.redirect("/dashboard")
        self.presence_error = self.accept_error = ""
        self._first_seen = {}
        try:
            with self._signed_in_repo() as repo:
                self._read_presence(repo)
                self._reload_queue(repo, alert=False)
                self._reload_today(repo)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.loaded = True
        return [AgentWorkspaceState.watch, rx.call_script(queue_alert_script(len(self.rows), 0))]

    def _read_presence(self, repo: OrgRepository) -> None:
        row = presence.presence_of(repo.session, repo.scope.organization_id, repo.scope.user_id)  # type: ignore
        self.status = presence.effective_status(row, utcnow()) if row else PresenceStatus.OFFLINE.value
        self.chosen = PresenceStatus.AVAILABLE.value if self.status == PresenceStatus.BUSY.value else self.status
        self.skills = ", ".join(row.skills) if row else ""
        self.capacity = str(row.max_concurrent if row else 1)

    def _reload_queue(self, repo: OrgRepository, *, alert: bool = True) -> int:
        """The queue anew; returns how many callers arrived since the last look."""
        views = queue.waiting(repo)
        now, name = time.monotonic(), self.user_name or self.user_email
        arrived = [v.handoff.id for v in views if v.handoff.id not in self._first_seen]
        seen = {v.handoff.id: self._first_seen.get(v.handoff.id, now if alert else 0.0) for v in views}
        self._first_seen = seen
        self.rows = [queue_row(v, name, now - seen[v.handoff.id] < NEW_FOR_SECONDS) for v in views]
        self._requested = {v.handoff.id: v.handoff.requested_at.timestamp() for v in views}
        self._tick_waited()
        return len(arrived) if alert else 0

    def _tick_waited(self) -> None:
        now = utcnow().timestamp()
        self.waited = {str(i): duration(now - at) for i, at in self._requested.items()}

    def _reload_today(self, repo: OrgRepository) -> None:
        self.today = [today_row(c) for c in queue.my_calls_today(repo)]

    # ------------------------------------------------------------ presence

    def _send_presence(self, repo: OrgRepository, status: str, **changes) -> None:
        row = presence.set_presence(repo, status, **changes)
        self.status = presence.effective_status(row, utcnow())
        self.chosen = status

    @rx.event
    def set_status(self, value: str | list[str]):
        value = value if isinstance(value, str) else (value[0] if value else "")
        if value not in CHOOSABLE:
            return None
        self.presence_error = ""
        try:
            with self._signed_in_repo() as repo:
                self._send_presence(repo, value)
        except DomainError as exc:
            self.presence_error = exc.message
        return None

    @rx.event
    def set_skills(self, value: str):
        self.skills = value

    @rx.event
    def set_capacity(self, value: str):
        self.capacity = value

    @rx.event
    def save_skills(self):
        self.presence_error = ""
        skills = [s.strip() for s in self.skills.split(",") if s.strip()]
        if not self.capacity.strip().isdigit():
            self.presence_error = "Capacity is a whole number of calls (1 to 10)."
            return None
        try:
            with self._signed_in_repo() as repo:
                self._send_presence(repo, self.chosen, skills=skills, max_concurrent=int(self.capacity))
                self._read_presence(repo)
        except DomainError as exc:
            self.presence_error = exc.message  # what was typed stays in the boxes
            return None
        return rx.toast.success("Skills and capacity saved.")

    # ------------------------------------------------------------ taking a caller

    @rx.event
    def accept(self, handoff_id: int):
        from quantum_voice.states.agent_call import CallPanelState

        self.accept_error = ""
        try:
            with self._signed_in_repo() as repo:
                takeover.accept(repo, handoff_id)
        except DomainError as exc:  # a Conflict names who took the caller
            self.accept_error = exc.message
        self._refresh()
        if self.accept_error:
            return None
        return [CallPanelState.show_call(handoff_id), rx.toast.success("You took the call.")]

    @rx.event
    def refresh(self):
        """The queue, presence and today's calls anew (after the call panel changed something)."""
        self._refresh()

    def _refresh(self) -> None:
        try:
            with self._signed_in_repo() as repo:
                self._reload_queue(repo)  # a caller arriving just now is still highlighted
                self._reload_today(repo)
                row = presence.presence_of(repo.session, repo.scope.organization_id, repo.scope.user_id)  # type: ignore
                self.status = presence.effective_status(row, utcnow()) if row else PresenceStatus.OFFLINE.value
        except DomainError as exc:
            self.accept_error = self.accept_error or exc.message

    # ------------------------------------------------------------ while the page is open

    @rx.event
    def stop_watching(self):
        self._watch_round += 1

    @rx.event(background=True)
    async def watch(self):
        """Every second the waiting times tick; every ``QUEUE_EVERY`` s the queue is read anew (an arrival is
        highlighted, counted in the tab's title and beeps); every ``HEARTBEAT_EVERY`` s the chosen presence is sent
        again. One loop per page load: a newer load, leaving the page or closing the tab ends it."""
        async with self:
            self._watch_round += 1
            round_, token = self._watch_round, self.router.session.client_token
        ticks = 0
        try:
            while True:
                await asyncio.sleep(TICK_SECONDS)
                ticks += 1
                if not client_connected(token):
                    return
                async with self:
                    if self._watch_round != round_ or self.router.url.path.rstrip("/") != PAGE:
                        return
                    arrived = self._look(ticks)
                    count = len(self.rows)
                if arrived is not None:
                    yield rx.call_script(queue_alert_script(count, arrived))
        except DomainError:  # signed out: the next load says so
            return
        except Exception:
            log.warning("the agent workspace stopped watching the queue", exc_info=True)

    def _look(self, ticks: int) -> int | None:
        """One tick's work; the number of arrivals when the queue was read, else None."""
        self._tick_waited()
        if ticks % HEARTBEAT_EVERY == 0:
            with self._signed_in_repo() as repo:
                self._send_presence(repo, self.chosen)
        if ticks % TODAY_EVERY == 0:
            with self._signed_in_repo() as repo:
                self._reload_today(repo)
        if ticks % QUEUE_EVERY != 0:
            return None
        with self._signed_in_repo() as repo:
            return self._reload_queue(repo)
