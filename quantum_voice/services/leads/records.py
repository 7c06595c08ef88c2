"""Lead records as people read them: the list (test calls left out unless asked for) and one lead with its
consent record, conversation and transcript."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_
from sqlmodel import col, select

from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.calls import ConsentRecord, Conversation, TranscriptTurn
from quantum_voice.models.leads import Lead, LeadBand
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository


@dataclass
class LeadDetail:
    lead: Lead
    is_test: bool
    conversation: Conversation | None
    consent: ConsentRecord | None
    transcript: list[TranscriptTurn]


def list_leads(repo: OrgRepository, *, campaign_id: int | None = None, include_tests: bool = False,
               band: str | None = None, limit: int = 100, offset: int = 0) -> list[tuple[Lead, bool]]:
    """Newest first, each with whether it came from a test call."""
    repo.scope.require(Permission.VIEW)
    org = repo.scope.organization_id
    stmt = select(Lead, col(Conversation.is_test)).where(Lead.organization_id == org).outerjoin(
        Conversation, and_(Conversation.id == Lead.conversation_id, Conversation.organization_id == org))
    if campaign_id is not None:
        stmt = stmt.where(Lead.campaign_id == campaign_id)
    if band is not None:
        if band not in {b.value for b in LeadBand}:
            raise ValidationFailed("Filter by band hot, warm or cold.", field="band")
        stmt = stmt.where(Lead.band == band)
    if not include_tests:
        stmt = stmt.where(or_(Conversation.id.is_(None), Conversation.is_test.is_(False)))
    stmt = stmt.order_by(Lead.created_at.desc(), Lead.id.desc()).offset(offset).limit(limit)
    return [(lead, bool(is_test)) for lead, is_test in repo.session.exec(stmt).all()]


def lead_detail(repo: OrgRepository, lead_id: int) -> LeadDetail:
    repo.scope.require(Permission.VIEW)
    lead = repo.get(Lead, lead_id)
    conversation = repo.get(Conversation, lead.conversation_id) if lead.conversation_id else None
    consent = repo.get(ConsentRecord, lead.consent_record_id) if lead.consent_record_id else None
    transcript = repo.list(TranscriptTurn, TranscriptTurn.conversation_id == conversation.id,
                           order_by=TranscriptTurn.seq, limit=10_000) if conversation else []
    return LeadDetail(lead, bool(conversation and conversation.is_test), conversation, consent, transcript)
