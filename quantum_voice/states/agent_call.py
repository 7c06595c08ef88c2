"""/agent's call panel: the call the agent took — its transcript as it goes on, the lead, knowledge search at hand,
handing the call back to the AI, and ending it with a disposition. The audio runs in the browser
(assets/agent_audio.js); this state only tells it to hang up. Thin: handoffs.queue, takeover, disposition, and the
knowledge search of the call's campaign."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

import reflex as rx

from quantum_voice.core.errors import DomainError, ValidationFailed
from quantum_voice.services.handoffs import disposition, lead_on_call, queue, takeover
from quantum_voice.services.knowledge import documents, questions
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.agent_workspace import PAGE, REASONS, AgentWorkspaceState, TurnRow, turn_rows
from quantum_voice.states.session import SessionState, client_connected

log = logging.getLogger(__name__)

FOLLOW_SECONDS = 1.5  # how soon a new turn of the call shows
CHECK_EVERY = 2  # follows between two looks at whether the call is still with this agent
KNOWLEDGE_PASSAGES = 3
LEAD_FIELDS = (("name", "Name"), ("email", "Email"), ("phone", "Phone"), ("company", "Company"),
               ("interest", "Interested in"), ("timeline", "Timeline"), ("budget", "Budget"))
HANG_UP_AUDIO = "window.QVAgentAudio && window.QVAgentAudio.disconnect()"


@dataclass
class CallTab:
    id: int = 0
    label: str = ""


@dataclass
class LeadField:
    label: str = ""
    value: str = ""


@dataclass
class EditField:
    key: str = ""
    label: str = ""
    value: str = ""


@dataclass
class PassageRow:
    document: str = ""
    text: str = ""


def callback_time(value: str) -> datetime | None:
    """The form's date and time (``datetime-local``, read as UTC as the form says); None when left empty."""
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed("Give the callback's date and time.", field="callback_at") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def tab_label(view: queue.HandoffView) -> str:
    lead = view.lead or {}
    return lead.get("name") or lead.get("email") or f"Caller {view.handoff.id}"


class CallPanelState(SessionState):
    calls: list[CallTab] = []
    current_id: int = 0
    ended_notice: str = ""  # the call left this agent (handed back or ended elsewhere)
    campaign: str = ""
    reason: str = ""
    has_lead: bool = False
    lead_id: int = 0
    lead_fields: list[LeadField] = []
    score: int = 0
    band: str = ""
    lead_status: str = ""
    lead_edit: list[EditField] = []  # the details the agent may correct, as they are now
    editing_lead: bool = False
    lead_error: str = ""
    turns: list[TurnRow] = []
    # knowledge at hand
    kb_query: str = ""
    kb_results: list[PassageRow] = []
    kb_message: str = ""
    # the end of the call
    outcome: str = ""
    callback_at: str = ""
    notes: str = ""
    form_error: str = ""
    _campaign_id: int = 0
    _last_seq: int = -1
    _follow_round: int = 0

    # ------------------------------------------------------------ which call

    @rx.event
    def load(self):
        self.ended_notice, self.current_id = "", 0
        if self._guard() is not None or not has_permission(self.role, Permission.WORK_CALLS):
            return None  # the workspace's own load redirects
        return self._open(0)

    @rx.event
    def stop_following(self):
        self._follow_round += 1

    @rx.event
    def show_call(self, handoff_id: int):
        self.ended_notice = ""
        return self._open(handoff_id)

    @rx.event
    def choose(self, handoff_id: int):
        if handoff_id == self.current_id:
            return None
        opened = self._open(handoff_id)
        return [rx.call_script(HANG_UP_AUDIO), *([opened] if opened is not None else [])]  # audio is per call

    def _open(self, handoff_id: int):
        """Show ``handoff_id`` (or the first ongoing call) and follow it."""
        try:
            with self._signed_in_repo() as repo:
                mine = queue.my_accepted(repo)
                self.calls = [CallTab(v.handoff.id, tab_label(v)) for v in mine]
                chosen = next((v for v in mine if v.handoff.id == handoff_id), mine[0] if mine else None)
                self._show(chosen)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return CallPanelState.follow if self.current_id else None

    def _show(self, view: queue.HandoffView | None) -> None:
        if view is None or view.handoff.id != self.current_id:
            self.kb_query, self.kb_results, self.kb_message = "", [], ""
            self.outcome, self.callback_at, self.notes, self.form_error = "", "", "", ""
            self.turns, self._last_seq = [], -1
        self.current_id = view.handoff.id if view else 0
        if view is None:
            return
        h, lead = view.handoff, view.lead or {}
        self.campaign, self._campaign_id = view.campaign_name or "No campaign", view.campaign_id or 0
        self.reason = REASONS.get(h.reason, h.reason) + (f": {h.reason_detail}" if h.reason_detail else "")
        self.has_lead, self.lead_id = view.lead is not None, lead.get("id") or 0
        self._show_lead_fields(lead)
        self.score, self.band, self.lead_status = lead.get("score") or 0, lead.get("band") or "", lead.get(
            "status") or ""

    def _show_lead_fields(self, lead: dict) -> None:
        self.lead_fields = [LeadField(label, str(lead.get(name) or "—")) for name, label in LEAD_FIELDS]
        self.lead_edit = [EditField(name, label, str(lead.get(name) or "")) for name, label in LEAD_FIELDS
                          if name in lead_on_call.EDITABLE]

    # ------------------------------------------------------------ correcting the lead

    @rx.event
    def edit_lead(self):
        self.editing_lead, self.lead_error = True, ""

    @rx.event
    def cancel_lead_edit(self):
        self.editing_lead, self.lead_error = False, ""

    @rx.event
    def save_lead(self, form: dict):
        values = {key: str(form.get(key) or "") for key in lead_on_call.EDITABLE if key in form}
        try:
            with self._signed_in_repo() as repo:
                lead = lead_on_call.edit_lead(repo, self.current_id, values)
                self._show_lead_fields({key: getattr(lead, key, None) for key, _label in LEAD_FIELDS})
        except DomainError as exc:
            self.lead_error = exc.message  # the form keeps what was typed
            return None
        self.editing_lead, self.lead_error = False, ""
        return rx.toast.success("The lead's details are saved.")

    # ------------------------------------------------------------ the transcript as it goes on

    def _read_turns(self, repo: OrgRepository) -> None:
        fresh = queue.call_transcript(repo, self.current_id, after_seq=self._last_seq)
        if fresh:
            self.turns = [*self.turns, *turn_rows(fresh, self.user_name or self.user_email)]
            self._last_seq = fresh[-1]["seq"]

    def _still_mine(self, repo: OrgRepository) -> bool:
        mine = queue.my_accepted(repo)
        self.calls = [CallTab(v.handoff.id, tab_label(v)) for v in mine]
        return any(v.handoff.id == self.current_id for v in mine)

    @rx.event(background=True)
    async def follow(self):
        """The current call's new turns every ``FOLLOW_SECONDS``; when the call is no longer this agent's (a manager
        handed it back, another tab ended it), the panel says so and the audio hangs up."""
        async with self:
            self._follow_round += 1
            round_, token = self._follow_round, self.router.session.client_token
        looks = 0
        try:
            while True:
                async with self:
                    if self._follow_round != round_ or not self.current_id or \
                            self.router.url.path.rstrip("/") != PAGE:
                        return
                    with self._signed_in_repo() as repo:
                        self._read_turns(repo)
                        gone = looks % CHECK_EVERY == 0 and not self._still_mine(repo)
                    if gone:
                        self.ended_notice = "This call is no longer with you (it was handed back or ended)."
                        self.current_id = 0
                if gone:
                    yield [rx.call_script(HANG_UP_AUDIO), AgentWorkspaceState.refresh]
                    return
                looks += 1
                await asyncio.sleep(FOLLOW_SECONDS)
                if not client_connected(token):
                    return
        except DomainError:
            return
        except Exception:
            log.warning("the call panel stopped following the call", exc_info=True)

    # ------------------------------------------------------------ knowledge at hand

    @rx.event
    def set_kb_query(self, value: str):
        self.kb_query = value

    @rx.event
    def search_knowledge(self, _form: dict | None = None):
        self.kb_results, self.kb_message = [], ""
        question, campaign_id = self.kb_query.strip(), self._campaign_id
        if not question:
            self.kb_message = "Type what the caller asked."
            return None
        if not campaign_id:
            self.kb_message = "This call has no campaign, so no knowledge base to search."
            return None
        try:
            with self._signed_in_repo() as repo:
                base = documents.knowledge_base_of_campaign(repo, campaign_id)
                found = questions.ask_as(repo, base.id, question, top_k=KNOWLEDGE_PASSAGES, record=False)
        except DomainError as exc:
            self.kb_message = exc.message
            return None
        self.kb_results = [PassageRow(p.document_name, p.text) for p in found.results[:KNOWLEDGE_PASSAGES]]
        if not self.kb_results:
            self.kb_message = "Nothing in the campaign's knowledge matches that."
        return None

    # ------------------------------------------------------------ the end of the call

    @rx.event
    def set_outcome(self, value: str):
        self.outcome, self.form_error = value, ""

    @rx.event
    def set_callback_at(self, value: str):
        self.callback_at = value

    @rx.event
    def set_notes(self, value: str):
        self.notes = value

    @rx.event
    def hand_back(self):
        handoff_id = self.current_id
        try:
            with self._signed_in_repo() as repo:
                takeover.release(repo, handoff_id)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return self._after_the_call("The call is back with the AI.")

    @rx.event
    def complete(self, _form: dict | None = None):
        self.form_error = ""
        handoff_id, outcome, notes = self.current_id, self.outcome, self.notes
        if not outcome:
            self.form_error = "Choose how the call ended."
            return None
        try:
            when = callback_time(self.callback_at) if outcome == disposition.CALLBACK else None
            with self._signed_in_repo() as repo:
                disposition.complete(repo, handoff_id, outcome, callback_at=when, notes=notes or None)
        except DomainError as exc:
            self.form_error = exc.message  # the form keeps what was typed
            return None
        return self._after_the_call("Call ended: " + outcome.replace("_", " ") + ".")

    def _after_the_call(self, message: str):
        self.current_id = 0
        self._follow_round += 1
        opened = self._open(0)
        return [rx.call_script(HANG_UP_AUDIO), AgentWorkspaceState.refresh, rx.toast.success(message),
                *([opened] if opened is not None else [])]
