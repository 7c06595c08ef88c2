"""The lead list as CSV, streamed: the rows of the current filter are read a batch at a time (each batch in its
own short read), so 100,000 leads never sit in memory at once."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from sqlmodel import Session, col

from quantum_voice.models.leads import Lead
from quantum_voice.services.leads.records import LeadFilter, campaign_names, user_names, filtered
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository, Scope

BATCH = 1_000
COLUMNS = ("id", "created_at", "name", "email", "phone", "company", "campaign", "score", "band", "status",
           "assignee", "interest", "timeline", "budget", "summary", "test_call")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def lead_csv(sessions: Callable[[], AbstractContextManager[Session]], scope: Scope,
             leads: LeadFilter) -> Iterator[str]:
    """CSV text in chunks: the header, then the filtered leads newest first. ``sessions`` opens a short session
    per batch (``core.db.session_scope``)."""
    scope.require(Permission.VIEW)
    leads = leads.checked()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield _drain(buffer)
    before: int | None = None
    while True:
        with sessions() as session:
            repo = OrgRepository(session, scope)
            stmt = filtered(repo, leads).order_by(col(Lead.id).desc()).limit(BATCH)
            if before is not None:
                stmt = stmt.where(Lead.id < before)
            batch = list(session.exec(stmt).all())
            campaigns = campaign_names(repo, {lead.campaign_id for lead in batch if lead.campaign_id})
            people = user_names(repo, {lead.assignee_user_id for lead in batch if lead.assignee_user_id})
            for lead in batch:
                writer.writerow([_cell(v) for v in (
                    lead.id, lead.created_at.isoformat(timespec="seconds"), lead.name, lead.email, lead.phone,
                    lead.company, campaigns.get(lead.campaign_id), lead.score, lead.band, lead.status,
                    people.get(lead.assignee_user_id), lead.interest, lead.timeline, lead.budget, lead.summary,
                    "yes" if lead.is_test else "")])
        if not batch:
            return
        yield _drain(buffer)
        if len(batch) < BATCH:
            return
        before = batch[-1].id


def _cell(value) -> str:
    """A value a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
