"""Lead records as people read them: the filtered, sorted list (pages for the UI, a cursor for the API) and one
lead with every call of that person, their consent tickets, transcripts and the lead's history."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, func, or_, union
from sqlmodel import col, select

from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.accounts import Membership, User
from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
from quantum_voice.models.campaigns import Campaign, QRCode
from quantum_voice.models.leads import Lead, LeadActivity, LeadBand, LeadStatus
from quantum_voice.services.leads.search import leads_contacted_as, leads_said
from quantum_voice.services.paging import Page, page_of
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

MAX_PAGE_SIZE = 200
MAX_TURNS_PER_CALL = 2_000
MAX_CALLS_SHOWN = 50
UNASSIGNED = -1  # assignee filter value: leads nobody has taken

# sort name -> (column, descending)
SORTS = {"newest": ("created_at", True), "oldest": ("created_at", False), "score": ("score", True),
         "score_low": ("score", False), "updated": ("updated_at", True)}


@dataclass(frozen=True)
class LeadFilter:
    """What the lead list shows. Every field is optional; the UI keeps them in the URL, the API in its query."""

    query: str = ""  # name, email, phone, company, or words said in a call
    campaign_id: int | None = None
    band: str | None = None
    status: str | None = None
    assignee_user_id: int | None = None  # UNASSIGNED for leads nobody has taken
    created_from: date | None = None
    created_to: date | None = None  # inclusive
    include_tests: bool = False

    def checked(self) -> "LeadFilter":
        if self.band is not None and self.band not in {b.value for b in LeadBand}:
            raise ValidationFailed("Filter by band hot, warm or cold.", field="band")
        if self.status is not None and self.status not in {s.value for s in LeadStatus}:
            raise ValidationFailed(f"Filter by status {', '.join(s.value for s in LeadStatus)}.", field="status")
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise ValidationFailed("The start date is after the end date.", field="created_from")
        return replace(self, query=" ".join((self.query or "").split())[:200])


@dataclass(frozen=True)
class LeadRow:
    lead: Lead
    campaign_name: str | None
    assignee_name: str | None


@dataclass
class CallRecord:
    """One call of the person, as the lead page shows it."""

    conversation: Conversation
    came_by: str  # "QR code “yard sign”", "web widget", "call link", "simulator"
    consent: ConsentRecord | None
    transcript: list[TranscriptTurn]


@dataclass
class LeadDetail:
    lead: Lead
    campaign_name: str | None
    assignee_name: str | None
    calls: list[CallRecord]
    activities: list[tuple[LeadActivity, str | None]]  # with the actor's name
    members: list[tuple[int, str]] = field(default_factory=list)  # who it can be assigned to



def filtered(repo: OrgRepository, leads: LeadFilter):
    """The select of the organisation's leads that ``leads`` lets through (no order, no limit)."""
    leads = leads.checked()
    org = repo.scope.organization_id
    stmt = repo.select(Lead)  # a test-mode key's repository holds test leads only
    if not (leads.include_tests or repo.scope.test_mode):
        stmt = stmt.where(col(Lead.is_test).is_(False))
    if leads.campaign_id is not None:
        stmt = stmt.where(Lead.campaign_id == leads.campaign_id)
    if leads.band:
        stmt = stmt.where(Lead.band == leads.band)
    if leads.status:
        stmt = stmt.where(Lead.status == leads.status)
    if leads.assignee_user_id == UNASSIGNED:
        stmt = stmt.where(col(Lead.assignee_user_id).is_(None))
    elif leads.assignee_user_id is not None:
        stmt = stmt.where(Lead.assignee_user_id == leads.assignee_user_id)
    if leads.created_from:
        stmt = stmt.where(Lead.created_at >= _day_start(leads.created_from))
    if leads.created_to:
        stmt = stmt.where(Lead.created_at < _day_start(leads.created_to + timedelta(days=1)))
    if leads.query:
        dialect = repo.session.get_bind().dialect.name
        found = [ids for ids in (leads_contacted_as(dialect, org, leads.query), leads_said(dialect, org, leads.query))
                 if ids is not None]
        # one set of ids, each part through its own index (an OR of the two made PostgreSQL read every lead)
        stmt = stmt.where(col(Lead.id).in_(union(*found) if len(found) > 1 else found[0]))
    return stmt


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _ordered(stmt, sort: str):
    if sort not in SORTS:
        raise ValidationFailed(f"Sort by {', '.join(SORTS)}.", field="sort")
    name, descending = SORTS[sort]
    column = getattr(Lead, name)
    return stmt.order_by(column.desc(), col(Lead.id).desc()) if descending else stmt.order_by(column, Lead.id)


def list_page(repo: OrgRepository, leads: LeadFilter, *, sort: str = "newest", page: int = 0,
              per_page: int = 25) -> tuple[list[LeadRow], Page]:
    """One page of the list, with its place in the whole ("26–50 of 1,204")."""
    repo.scope.require(Permission.VIEW)
    per_page = min(max(per_page, 1), MAX_PAGE_SIZE)
    stmt = filtered(repo, leads)
    total = int(repo.session.exec(select(func.count()).select_from(stmt.subquery())).one())
    where = page_of(total, page, per_page)
    rows = repo.session.exec(_ordered(stmt, sort).offset(where.start).limit(per_page)).all()
    return _rows(repo, list(rows)), where


def list_after(repo: OrgRepository, leads: LeadFilter, *, sort: str = "newest", cursor: str | None = None,
               limit: int = 50) -> tuple[list[LeadRow], str | None]:
    """Leads after ``cursor`` in ``sort`` order, and the cursor of the next batch (None at the end). Stable while
    leads are added: a cursor names the last lead seen, not a position."""
    repo.scope.require(Permission.VIEW)
    limit = min(max(limit, 1), MAX_PAGE_SIZE)
    stmt = filtered(repo, leads)
    _ordered(select(Lead), sort)  # refuse an unknown sort before reading the cursor
    name, descending = SORTS[sort]
    column = getattr(Lead, name)
    if cursor:
        value, last_id = _read_cursor(cursor, name)
        after = (column < value) if descending else (column > value)
        same = and_(column == value, (col(Lead.id) < last_id) if descending else (col(Lead.id) > last_id))
        stmt = stmt.where(or_(after, same))
    rows = list(repo.session.exec(_ordered(stmt, sort).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _write_cursor(getattr(rows[-1], name), rows[-1].id) if more and rows else None
    return _rows(repo, rows), next_cursor


def _write_cursor(value, lead_id: int) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, lead_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_cursor(cursor: str, name: str):
    try:
        value, lead_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if name in ("created_at", "updated_at"):
            value = datetime.fromisoformat(value)
        elif not isinstance(value, int):
            raise ValueError(value)
        if not isinstance(lead_id, int):
            raise ValueError(lead_id)
        return value, lead_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationFailed("That cursor is not one this list gave out (or is for another sort order). Start "
                               "again without a cursor.", field="cursor", code="invalid_cursor") from None


def _rows(repo: OrgRepository, leads: list[Lead]) -> list[LeadRow]:
    campaigns = campaign_names(repo, {lead.campaign_id for lead in leads if lead.campaign_id})
    people = user_names(repo, {lead.assignee_user_id for lead in leads if lead.assignee_user_id})
    return [LeadRow(lead, campaigns.get(lead.campaign_id), people.get(lead.assignee_user_id)) for lead in leads]


def campaign_names(repo: OrgRepository, ids: set[int]) -> dict[int, str]:
    """The organisation's campaigns' names by id, in one query (for a page of leads, or a batch of the CSV)."""
    if not ids:
        return {}
    rows = repo.session.exec(select(Campaign.id, Campaign.name).where(
        Campaign.organization_id == repo.scope.organization_id, col(Campaign.id).in_(ids))).all()
    return {cid: name for cid, name in rows}


def user_names(repo: OrgRepository, ids: set[int]) -> dict[int, str]:
    """People's names (else emails) by user id, in one query."""
    if not ids:
        return {}
    rows = repo.session.exec(select(User.id, User.full_name, User.email).where(col(User.id).in_(ids))).all()
    return {uid: full_name or email for uid, full_name, email in rows}


def members(repo: OrgRepository) -> list[tuple[int, str]]:
    """The organisation's members a lead can be assigned to, by name."""
    rows = repo.session.exec(select(User.id, User.full_name, User.email).join(
        Membership, Membership.user_id == User.id).where(
        Membership.organization_id == repo.scope.organization_id).order_by(User.email)).all()
    return [(uid, full_name or email) for uid, full_name, email in rows]


def calls_of(repo: OrgRepository, lead: Lead) -> list[Conversation]:
    """The person's calls, newest first (the lead's first call included for leads made before calls knew their
    lead)."""
    found = repo.list(Conversation, or_(Conversation.lead_id == lead.id, Conversation.id == lead.conversation_id),
                      order_by=col(Conversation.started_at).desc(), limit=MAX_CALLS_SHOWN)
    return found


def lead_detail(repo: OrgRepository, lead_id: int) -> LeadDetail:
    repo.scope.require(Permission.VIEW)
    lead = repo.get(Lead, lead_id)
    calls = [_call_record(repo, conversation) for conversation in calls_of(repo, lead)]
    activities = repo.list(LeadActivity, LeadActivity.lead_id == lead.id, order_by=LeadActivity.id, limit=1_000)
    actors = user_names(repo, {a.actor_user_id for a in activities if a.actor_user_id})
    campaign = campaign_names(repo, {lead.campaign_id} if lead.campaign_id else set())
    assignee = user_names(repo, {lead.assignee_user_id} if lead.assignee_user_id else set())
    return LeadDetail(lead, campaign.get(lead.campaign_id), assignee.get(lead.assignee_user_id), calls,
                      [(a, actors.get(a.actor_user_id)) for a in activities], members(repo))


def _call_record(repo: OrgRepository, conversation: Conversation) -> CallRecord:
    consent = repo.list(ConsentRecord, ConsentRecord.conversation_id == conversation.id,
                        order_by=ConsentRecord.id, limit=1)
    transcript = repo.list(TranscriptTurn, TranscriptTurn.conversation_id == conversation.id,
                           order_by=TranscriptTurn.seq, limit=MAX_TURNS_PER_CALL)
    return CallRecord(conversation, came_by(repo, conversation), consent[0] if consent else None, transcript)


def came_by(repo: OrgRepository, conversation: Conversation) -> str:
    """How the caller reached the campaign, in words."""
    if conversation.is_test:
        return "test call"
    if conversation.qr_code_id:
        qr = repo.session.get(QRCode, conversation.qr_code_id)
        if qr is not None and qr.organization_id == repo.scope.organization_id:
            return f"QR code “{qr.label}”"
        return "QR code"
    return {"widget": "web widget", "qr": "QR code", "api": "API", "simulator": "simulator"}.get(
        conversation.channel, "call link")
