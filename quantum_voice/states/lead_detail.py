"""/leads/[lead_id]: one person — contact details, score and why, the pipeline with its history, assignee and
notes, every call with its consent ticket and transcript, and the person's data export and erasure. Thin: records
reads, pipeline changes, privacy exports and erases."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.models.leads import ActivityKind, Lead, LeadActivity, LeadStatus
from quantum_voice.services.leads import pipeline, privacy, records
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.forms import ConfirmStep
from quantum_voice.states.session import SessionState
from quantum_voice.states.format import moment

STATUSES = [s.value for s in LeadStatus]  # new → contacted → qualified → won / lost
CONTACT_FIELDS = (("name", "Name"), ("email", "Email"), ("phone", "Phone"), ("company", "Company"),
                  ("interest", "Interested in"), ("timeline", "Timeline"), ("budget", "Budget"))


@dataclass
class Item:
    label: str = ""
    value: str = ""


@dataclass
class Reason:
    label: str = ""
    points: str = ""  # "+15", "-5"


@dataclass
class HistoryRow:
    kind: str = ""
    what: str = ""
    text: str = ""  # a note's words
    who: str = ""
    when: str = ""


@dataclass
class TurnView:
    speaker: str = ""  # caller | agent | system
    text: str = ""
    at: str = ""  # "01:05" from the start of the call
    interrupted: bool = False


@dataclass
class CallView:
    id: int = 0
    started: str = ""
    duration: str = ""
    came_by: str = ""
    status: str = ""
    has_consent: bool = False
    consent_granted: bool = False
    consent_ticket: str = ""
    consent_wording: str = ""
    consent_policy: str = ""
    consent_at: str = ""
    consent_erased_at: str = ""
    turns: list[TurnView] = field(default_factory=list)


def clock(offset_ms: int | None) -> str:
    """A turn's time from the start of its call, as mm:ss (h:mm:ss past an hour); "" when unknown."""
    if offset_ms is None or offset_ms < 0:
        return ""
    seconds = offset_ms // 1000
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def call_length(seconds: float | None) -> str:
    return "" if seconds is None else clock(int(seconds * 1000))


def reasons(breakdown: list[dict]) -> list[Reason]:
    """The scoring rules that fired, as the lead keeps them ({"rule", "label", "points"})."""
    return [Reason(label=str(item.get("label") or item.get("rule") or ""),
                   points=f"{int(item.get('points') or 0):+d}") for item in breakdown or []]


CHANNEL_NAMES = {"slack": "Slack", "asana": "Asana", "email": "email", "digest": "the daily digest"}


def history_text(activity: LeadActivity, names: dict[int, str]) -> str:
    """One line of the lead's history in words (``names``: who members are, for assignments)."""
    details = activity.details or {}
    kind = activity.kind
    if kind == ActivityKind.CREATED.value:
        return "Called again" if details.get("returning") else "Became a lead on a call"
    if kind == ActivityKind.STATUS.value:
        return f"Status: {details.get('from', '?')} → {details.get('to', '?')}"
    if kind == ActivityKind.ASSIGNED.value:
        to = details.get("to")
        return f"Assigned to {names.get(to, 'a former member')}" if to else "Unassigned"
    if kind == ActivityKind.NOTE.value:
        return "Note"
    if kind == ActivityKind.MERGED.value:
        return "Merged with an earlier lead of the same person"
    if kind == ActivityKind.NOTIFIED.value:
        channel = CHANNEL_NAMES.get(details.get("channel"), details.get("channel") or "a channel")
        reason = f": {details['error']}" if details.get("error") else ""
        return {"sent": f"Sent to {channel}", "skipped": f"Not sent to {channel}{reason}",
                "failed": f"Sending to {channel} failed{reason}"}.get(details.get("status"), f"Queued for {channel}")
    if kind == ActivityKind.EXPORTED.value:
        return "Personal data exported"
    if kind == ActivityKind.ERASED.value:
        return "Personal data erased"
    if kind == ActivityKind.HANDOFF.value:
        outcome = str(details.get("disposition", "")).replace("_", " ")
        moved = f" (status: {details['from']} → {details['to']})" if details.get("to") else ""
        return f"Call taken by a team member: {outcome}{moved}"
    if kind == ActivityKind.EDITED.value:
        fields = ", ".join(str(f) for f in details.get("fields", []))
        return f"Details corrected on the call: {fields}" if fields else "Details corrected on the call"
    return kind.capitalize()


def contact_items(lead: Lead) -> list[Item]:
    items = [Item(label, str(getattr(lead, name))) for name, label in CONTACT_FIELDS if getattr(lead, name)]
    items += [Item(str(k).replace("_", " ").capitalize(), str(v)) for k, v in (lead.custom_fields or {}).items()
              if v not in (None, "")]
    return items


def call_view(call: records.CallRecord) -> CallView:
    c, consent = call.conversation, call.consent
    return CallView(
        id=c.id, started=moment(c.started_at), duration=call_length(c.duration_seconds), came_by=call.came_by,
        status=c.status, has_consent=consent is not None, consent_granted=bool(consent and consent.granted),
        consent_ticket=consent.public_id if consent else "", consent_wording=consent.wording if consent else "",
        consent_policy=consent.policy_version if consent else "",
        consent_at=moment(consent.created_at) if consent else "",
        consent_erased_at=moment(consent.erased_at) if consent and consent.erased_at else "",
        turns=[TurnView(t.speaker, t.text, clock(t.offset_ms), bool(t.interrupted)) for t in call.transcript])


class LeadDetailState(ConfirmStep, SessionState):
    loaded: bool = False
    missing: str = ""  # why the lead cannot be shown (another organisation's, merged away)
    can_manage: bool = False
    lead_id: int = 0
    title: str = ""
    email: str = ""
    contact: list[Item] = []
    summary: str = ""
    campaign: str = ""
    score: int = 0
    band: str = ""
    breakdown: list[Reason] = []
    status: str = ""
    assignee: str = ""  # a member's user id, "" for nobody
    members: list[Item] = []  # label: name, value: user id
    created: str = ""
    is_test: bool = False
    erased: bool = False
    erased_at: str = ""
    history: list[HistoryRow] = []
    notes: list[HistoryRow] = []
    calls: list[CallView] = []
    note_error: str = ""

    @rx.var
    def editable(self) -> bool:
        return self.can_manage and not self.erased

    # ------------------------------------------------------------ loading

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        self.loaded, self.missing, self.note_error = False, "", ""
        self.lead_id = self._id_from_url()
        self.can_manage = has_permission(self.role, Permission.MANAGE_LEADS)
        try:
            with self._signed_in_repo() as repo:
                self._reload(repo)
        except DomainError as exc:
            self.missing = exc.message
            return None
        self.loaded = True
        return None

    def _reload(self, repo: OrgRepository) -> None:
        detail = records.lead_detail(repo, self.lead_id)
        lead = detail.lead
        self.erased = lead.erased_at is not None
        self.erased_at = moment(lead.erased_at)
        self.title = "Erased person" if self.erased else (lead.name or lead.email or f"Lead {lead.id}")
        self.email = lead.email or ""
        self.contact = [] if self.erased else contact_items(lead)
        self.summary = lead.summary or ""
        self.campaign = detail.campaign_name or ""
        self.score, self.band, self.breakdown = lead.score, lead.band, reasons(lead.score_breakdown)
        self.status = lead.status
        self.assignee = str(lead.assignee_user_id or "")
        self.members = [Item(name, str(uid)) for uid, name in detail.members]
        self.created, self.is_test = moment(lead.created_at), lead.is_test
        names = dict(detail.members)
        rows = [HistoryRow(a.kind, history_text(a, names), a.text or "", who or "", moment(a.created_at))
                for a, who in detail.activities]
        self.history = list(reversed(rows))
        self.notes = [r for r in self.history if r.kind == ActivityKind.NOTE.value]
        self.calls = [call_view(c) for c in detail.calls]

    def _attempt(self, action: Callable[[OrgRepository], object], success: str = ""):
        error = self._act_then_reload(action, self._reload)
        if error is not None:
            return rx.toast.error(error.message)
        return rx.toast.success(success) if success else None

    # ------------------------------------------------------------ the pipeline

    @rx.event
    def set_status(self, value: str):
        if value == self.status:
            return None
        lead_id = self.lead_id
        return self._attempt(lambda repo: pipeline.update_lead(repo, lead_id, status=value), f"Status: {value}.")

    @rx.event
    def assign(self, value: str):
        lead_id, who = self.lead_id, int(value) if value.isdigit() else None
        label = next((m.label for m in self.members if m.value == value), "")
        return self._attempt(lambda repo: pipeline.update_lead(repo, lead_id, assignee_user_id=who),
                             f"Assigned to {label}." if who else "Unassigned.")

    @rx.event
    def add_note(self, form: dict):
        self.note_error = ""
        text, lead_id = str(form.get("text") or ""), self.lead_id
        try:
            with self._signed_in_repo() as repo:
                pipeline.add_note(repo, lead_id, text)
                self._reload(repo)
        except DomainError as exc:
            self.note_error = exc.message  # the note stays in the box
            return None
        return [rx.set_value("lead-note", ""), rx.toast.success("Note added.")]

    # ------------------------------------------------------------ the person's data

    @rx.event
    def export_data(self):
        lead_id, found = self.lead_id, []
        error = self._act_then_reload(lambda repo: found.append(privacy.export_person(repo, lead_id)), self._reload)
        if error is not None:
            return rx.toast.error(error.message)
        return rx.download(data=json.dumps(found[0], indent=2, ensure_ascii=False, default=str),
                           filename=f"lead-{lead_id}.json", mime_type="application/json")

    @rx.event
    def ask_erase(self):
        self._ask("erase", self.lead_id, "Erase this person's data?",
                  "Their name, contact details, transcripts and notes are replaced with a tombstone, in this lead, "
                  "in every call of theirs and in mail about them. The consent tickets stay as the legal record and "
                  "note the erasure. This cannot be undone.")

    @rx.event
    def confirm(self):
        self.confirm_open = False
        if self._confirm_action != "erase":
            return None
        lead_id = self._confirm_id
        return self._attempt(lambda repo: privacy.erase_person(repo, lead_id), "The person's data was erased.")
