"""What the team does with a lead: move it along the pipeline (new → contacted → qualified → won / lost), assign
it, write notes — one at a time or in bulk. Every change is a line of the lead's history and is announced to the
pages that show it."""

from __future__ import annotations

from sqlmodel import col

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.accounts import Membership
from quantum_voice.models.leads import ActivityKind, Lead, LeadActivity, LeadStatus
from quantum_voice.services.developer import webhook_events
from quantum_voice.services.leads.live import announce_after_commit
from quantum_voice.services.leads.people import record
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

MAX_NOTE_CHARS = 5_000
MAX_BULK = 500
KEEP = object()  # "leave the assignee as it is"


def update_lead(repo: OrgRepository, lead_id: int, *, status: str | None = None,
                assignee_user_id: int | None | object = KEEP) -> Lead:
    """Change a lead's status and/or assignee (``None`` unassigns). Unchanged values leave no history."""
    repo.scope.require(Permission.MANAGE_LEADS)
    lead = repo.get(Lead, lead_id)
    _refuse_erased(lead)
    if status is not None:
        _check_status(status)
    if assignee_user_id is not KEEP and assignee_user_id is not None:
        _check_member(repo, assignee_user_id)  # type: ignore[arg-type]
    _apply(repo, lead, status, assignee_user_id)
    return lead


def bulk_update(repo: OrgRepository, lead_ids: list[int], *, status: str | None = None,
                assignee_user_id: int | None | object = KEEP) -> int:
    """The same change on many leads (all or nothing). Returns how many leads changed."""
    repo.scope.require(Permission.MANAGE_LEADS)
    ids = list(dict.fromkeys(lead_ids))
    if not ids:
        raise ValidationFailed("Choose at least one lead.", field="lead_ids")
    if len(ids) > MAX_BULK:
        raise ValidationFailed(f"Change at most {MAX_BULK} leads at once.", field="lead_ids")
    if status is not None:
        _check_status(status)
    if assignee_user_id is not KEEP and assignee_user_id is not None:
        _check_member(repo, assignee_user_id)  # type: ignore[arg-type]
    leads = repo.list(Lead, col(Lead.id).in_(ids), limit=MAX_BULK)
    if len(leads) != len(ids):
        raise ValidationFailed("Some of those leads are not in your organisation any more. Reload the list.",
                               field="lead_ids")
    return sum(_apply(repo, lead, status, assignee_user_id) for lead in leads if lead.erased_at is None)


def add_note(repo: OrgRepository, lead_id: int, text: str) -> LeadActivity:
    repo.scope.require(Permission.MANAGE_LEADS)
    lead = repo.get(Lead, lead_id)
    _refuse_erased(lead)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("Write the note first.", field="text")
    if len(text) > MAX_NOTE_CHARS:
        raise ValidationFailed(f"A note can be at most {MAX_NOTE_CHARS:,} characters.", field="text")
    note = record(repo, lead, ActivityKind.NOTE, text=text)
    lead.updated_at = utcnow()
    repo.session.add(lead)
    announce_after_commit(repo.session, lead.organization_id, lead.id, "note")
    return note


def _apply(repo: OrgRepository, lead: Lead, status: str | None, assignee_user_id) -> bool:
    changes: dict[str, dict] = {}
    if status is not None and status != lead.status:
        record(repo, lead, ActivityKind.STATUS, details={"from": lead.status, "to": status})
        changes["status"] = {"from": lead.status, "to": status}
        lead.status = status
    if assignee_user_id is not KEEP and assignee_user_id != lead.assignee_user_id:
        record(repo, lead, ActivityKind.ASSIGNED,
               details={"from": lead.assignee_user_id, "to": assignee_user_id})
        changes["assignee_user_id"] = {"from": lead.assignee_user_id, "to": assignee_user_id}
        lead.assignee_user_id = assignee_user_id
    if changes:
        lead.updated_at = utcnow()
        repo.session.add(lead)
        repo.session.flush()
        announce_after_commit(repo.session, lead.organization_id, lead.id, "updated")
        webhook_events.lead_event(repo, lead, "lead.updated", changes=changes)
    return bool(changes)


def _check_status(status: str) -> None:
    if status not in {s.value for s in LeadStatus}:
        raise ValidationFailed(f"A lead's status is one of {', '.join(s.value for s in LeadStatus)}.",
                               field="status")


def _check_member(repo: OrgRepository, user_id: int) -> None:
    if not repo.list(Membership, Membership.user_id == user_id, limit=1):
        raise ValidationFailed("Assign the lead to a member of your organisation.", field="assignee_user_id")


def _refuse_erased(lead: Lead) -> None:
    if lead.erased_at is not None:
        raise ValidationFailed("This person's data was erased; the lead can no longer be changed.", field="lead")


