"""/api/leads: the lead list with filters and a cursor, one lead with all the person's calls and history, the
pipeline (status, assignee, notes, bulk changes), the CSV export, and the person's data export and erasure.

Agents and viewers read; managers and up change. The list's next cursor comes back in ``X-Next-Cursor`` and a
``Link: <…>; rel="next"`` header, so the body stays a plain list like every other list of the API.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from quantum_voice.api import cursors
from quantum_voice.api.deps import Repo
from quantum_voice.core.clock import utcnow
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.services import audit, paging
from quantum_voice.services.leads import pipeline, privacy, records
from quantum_voice.services.leads.export import lead_csv
from quantum_voice.services.leads.records import LeadFilter, LeadRow

router = APIRouter(prefix="/api/leads", tags=["leads"])


class LeadOut(BaseModel):
    id: int
    campaign_id: int | None
    campaign_name: str | None
    conversation_id: int | None
    name: str | None
    email: str | None
    phone: str | None
    company: str | None
    interest: str | None
    timeline: str | None
    budget: str | None
    custom_fields: dict[str, Any]
    score: int
    band: str
    score_breakdown: list[dict[str, Any]]
    status: str
    assignee_user_id: int | None
    assignee_name: str | None
    summary: str | None
    is_test: bool
    erased: bool
    created_at: datetime
    updated_at: datetime


class ConsentOut(BaseModel):
    public_id: str
    granted: bool
    email: str | None
    wording: str
    policy_version: str
    created_at: datetime
    erased_at: datetime | None


class ConversationOut(BaseModel):
    id: int
    channel: str
    status: str
    is_test: bool
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float | None
    end_reason: str | None


class TranscriptTurnOut(BaseModel):
    seq: int
    speaker: str
    text: str
    interrupted: bool
    node_id: str | None
    offset_ms: int | None
    created_at: datetime


class CallOut(BaseModel):
    conversation: ConversationOut
    came_by: str
    consent: ConsentOut | None
    transcript: list[TranscriptTurnOut]


class ActivityOut(BaseModel):
    kind: str
    actor_name: str | None
    text: str | None
    details: dict[str, Any]
    created_at: datetime


class LeadDetailOut(LeadOut):
    consent: ConsentOut | None  # the latest call's (also under calls)
    conversation: ConversationOut | None
    transcript: list[TranscriptTurnOut]
    calls: list[CallOut]
    activities: list[ActivityOut]


class LeadChange(BaseModel):
    status: str | None = None
    assignee_user_id: int | None = None  # null unassigns; leave it out to keep the assignee


class BulkChange(LeadChange):
    lead_ids: list[int] = Field(max_length=pipeline.MAX_BULK)


class NoteIn(BaseModel):
    text: str = Field(max_length=pipeline.MAX_NOTE_CHARS)


class BulkOut(BaseModel):
    changed: int


def _lead_out(row: LeadRow) -> LeadOut:
    lead = row.lead
    return LeadOut.model_validate({**lead.model_dump(), "campaign_name": row.campaign_name,
                                   "assignee_name": row.assignee_name, "erased": lead.erased_at is not None})


def _filter(q: str, campaign_id: int | None, band: str | None, status: str | None, assignee: str | None,
            created_from: date | None, created_to: date | None, include_tests: bool) -> LeadFilter:
    who = None
    if assignee == "none":
        who = records.UNASSIGNED
    elif assignee:
        if not assignee.isdigit() or len(assignee) > 12:
            raise ValidationFailed("Filter by assignee with a member's id, or none for unassigned leads.",
                                   field="assignee")
        who = int(assignee)
    return LeadFilter(query=q, campaign_id=campaign_id, band=band, status=status, assignee_user_id=who,
                      created_from=created_from, created_to=created_to, include_tests=include_tests)


_Q = Query("", max_length=200, description="Name, email, phone, company or words said in a call")
_ASSIGNEE = Query(None, max_length=12, description="A member's user id, or none")


@router.get("", response_model=list[LeadOut], responses=cursors.NEXT_HEADERS)
def list_leads(repo: Repo, request: Request, response: Response, q: str = _Q, campaign_id: int | None = None,
               band: str | None = None, status: str | None = None, assignee: str | None = _ASSIGNEE,
               created_from: date | None = None, created_to: date | None = None, include_tests: bool = False,
               sort: str = "newest", cursor: str | None = Query(None, max_length=200),
               limit: int = Query(paging.DEFAULT_LIMIT, ge=1, le=records.MAX_PAGE_SIZE)) -> list[LeadOut]:
    leads = _filter(q, campaign_id, band, status, assignee, created_from, created_to, include_tests)
    rows, next_cursor = records.list_after(repo, leads, sort=sort, cursor=cursor, limit=limit)
    return [_lead_out(row) for row in cursors.sent(request, response, paging.Batch(rows, next_cursor))]


@router.get("/export.csv", response_class=StreamingResponse)
def export_leads(repo: Repo, q: str = _Q, campaign_id: int | None = None, band: str | None = None,
                 status: str | None = None, assignee: str | None = _ASSIGNEE, created_from: date | None = None,
                 created_to: date | None = None, include_tests: bool = False) -> StreamingResponse:
    leads = _filter(q, campaign_id, band, status, assignee, created_from, created_to, include_tests).checked()
    audit.record(repo.session, "leads.exported_csv", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="leads",
                 filter={k: str(v) for k, v in leads.__dict__.items() if v not in (None, "", False)})
    stream = lead_csv(session_scope, repo.scope, leads)
    name = f"leads-{utcnow():%Y-%m-%d}.csv"
    return StreamingResponse(stream, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/bulk", response_model=BulkOut)
def bulk_change(change: BulkChange, repo: Repo) -> BulkOut:
    return BulkOut(changed=pipeline.bulk_update(repo, change.lead_ids, **_changes(change)))


@router.get("/{lead_id}", response_model=LeadDetailOut)
def get_lead(lead_id: int, repo: Repo) -> LeadDetailOut:
    return _detail_out(records.lead_detail(repo, lead_id))


@router.patch("/{lead_id}", response_model=LeadDetailOut)
def change_lead(lead_id: int, change: LeadChange, repo: Repo) -> LeadDetailOut:
    pipeline.update_lead(repo, lead_id, **_changes(change))
    return _detail_out(records.lead_detail(repo, lead_id))


@router.post("/{lead_id}/notes", status_code=201, response_model=ActivityOut)
def add_note(lead_id: int, note: NoteIn, repo: Repo) -> ActivityOut:
    activity = pipeline.add_note(repo, lead_id, note.text)
    return ActivityOut(kind=activity.kind, actor_name=None, text=activity.text, details=activity.details,
                       created_at=activity.created_at)


@router.get("/{lead_id}/export")
def export_person(lead_id: int, repo: Repo) -> dict[str, Any]:
    return privacy.export_person(repo, lead_id)


@router.post("/{lead_id}/erase", response_model=LeadOut)
def erase_person(lead_id: int, repo: Repo) -> LeadOut:
    lead = privacy.erase_person(repo, lead_id)
    return _lead_out(LeadRow(lead, None, None))


def _changes(change: LeadChange) -> dict[str, Any]:
    changes: dict[str, Any] = {"status": change.status}
    if "assignee_user_id" in change.model_fields_set:
        changes["assignee_user_id"] = change.assignee_user_id
    return changes


def _detail_out(detail: records.LeadDetail) -> LeadDetailOut:
    calls = [CallOut(conversation=ConversationOut.model_validate(c.conversation, from_attributes=True),
                     came_by=c.came_by,
                     consent=ConsentOut.model_validate(c.consent, from_attributes=True) if c.consent else None,
                     transcript=[TranscriptTurnOut.model_validate(t, from_attributes=True) for t in c.transcript])
             for c in detail.calls]
    return LeadDetailOut(
        **_lead_out(LeadRow(detail.lead, detail.campaign_name, detail.assignee_name)).model_dump(),
        consent=next((c.consent for c in calls if c.consent), None),
        conversation=calls[0].conversation if calls else None,
        transcript=calls[0].transcript if calls else [],
        calls=calls,
        activities=[ActivityOut(kind=a.kind, actor_name=name, text=a.text, details=a.details,
                                created_at=a.created_at) for a, name in detail.activities])
