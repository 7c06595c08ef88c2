"""/api/leads: the lead list (test calls left out unless include_tests) and one lead with its transcript."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from quantum_voice.api.deps import Repo
from quantum_voice.models.leads import Lead
from quantum_voice.services.leads import records

router = APIRouter(prefix="/api/leads", tags=["leads"])


class LeadOut(BaseModel):
    id: int
    campaign_id: int | None
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
    summary: str | None
    is_test: bool
    created_at: datetime
    updated_at: datetime


class ConsentOut(BaseModel):
    public_id: str
    granted: bool
    email: str | None
    wording: str
    policy_version: str
    created_at: datetime


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
    node_id: str | None
    offset_ms: int | None
    created_at: datetime


class LeadDetailOut(LeadOut):
    consent: ConsentOut | None
    conversation: ConversationOut | None
    transcript: list[TranscriptTurnOut]


def _lead_out(lead: Lead, is_test: bool) -> LeadOut:
    return LeadOut.model_validate({**lead.model_dump(), "is_test": is_test})


@router.get("", response_model=list[LeadOut])
def list_leads(repo: Repo, campaign_id: int | None = None, include_tests: bool = False, band: str | None = None,
               limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0)) -> list[LeadOut]:
    rows = records.list_leads(repo, campaign_id=campaign_id, include_tests=include_tests, band=band, limit=limit,
                              offset=offset)
    return [_lead_out(lead, is_test) for lead, is_test in rows]


@router.get("/{lead_id}", response_model=LeadDetailOut)
def get_lead(lead_id: int, repo: Repo) -> LeadDetailOut:
    detail = records.lead_detail(repo, lead_id)
    return LeadDetailOut(
        **_lead_out(detail.lead, detail.is_test).model_dump(),
        consent=ConsentOut.model_validate(detail.consent, from_attributes=True) if detail.consent else None,
        conversation=ConversationOut.model_validate(detail.conversation, from_attributes=True)
        if detail.conversation else None,
        transcript=[TranscriptTurnOut.model_validate(t, from_attributes=True) for t in detail.transcript])
