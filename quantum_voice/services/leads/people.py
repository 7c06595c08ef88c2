"""One lead per person: a call's lead is the organisation's lead with the caller's email when there is one, else
a new lead; a lead that learns its email mid-call is merged into the older lead with that email at the end of the
call. Test calls have their own leads and never merge with real ones."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from quantum_voice.core.clock import utcnow
from quantum_voice.models.calls import Conversation
from quantum_voice.models.handoff import Handoff
from quantum_voice.models.leads import ActivityKind, Lead, LeadActivity
from quantum_voice.services.developer import webhook_events
from quantum_voice.services.tenancy import OrgRepository

_CONTACT_FIELDS = ("name", "email", "phone", "company", "interest", "timeline", "budget")


def lead_for_call(repo: OrgRepository, conversation: Conversation, *, consent_record_id: int | None,
                  email: str | None = None) -> Lead:
    """The lead this call's consent starts or continues: the person's existing lead (same email, same kind of
    call), else a new one. The call is linked to it either way."""
    lead = same_person(repo, email, is_test=conversation.is_test) if email else None
    if lead is None:
        lead = repo.add(Lead(organization_id=repo.scope.organization_id, campaign_id=conversation.campaign_id,
                             conversation_id=conversation.id, consent_record_id=consent_record_id, email=email,
                             is_test=conversation.is_test))
        record(repo, lead, ActivityKind.CREATED, details={"conversation_id": conversation.id})
        webhook_events.lead_event(repo, lead, "lead.created")
    else:
        conversation.flow_state = {**conversation.flow_state, "lead_before": score_of(lead)}
        lead.conversation_id, lead.campaign_id = conversation.id, conversation.campaign_id or lead.campaign_id
        lead.consent_record_id = consent_record_id or lead.consent_record_id
        lead.updated_at = utcnow()
        record(repo, lead, ActivityKind.CREATED, details={"conversation_id": conversation.id, "returning": True})
    conversation.lead_id = lead.id
    repo.session.add(conversation)
    repo.session.flush()
    return lead


def same_person(repo: OrgRepository, email: str, *, is_test: bool, other_than: int | None = None) -> Lead | None:
    """The organisation's oldest lead with this email (any case), of the same kind of call, not erased."""
    stmt = repo.select(Lead).where(func.lower(Lead.email) == email.strip().lower(), Lead.is_test == is_test,
                                   col(Lead.erased_at).is_(None))
    if other_than is not None:
        stmt = stmt.where(Lead.id != other_than)
    return repo.session.exec(stmt.order_by(Lead.id).limit(1)).first()


def score_of(lead: Lead) -> dict[str, Any]:
    return {"score": lead.score, "band": lead.band, "breakdown": list(lead.score_breakdown or [])}


def merge_into_person(repo: OrgRepository, lead: Lead) -> Lead:
    """``lead`` itself, or, when an older lead of the organisation has its email, that lead with ``lead``'s calls,
    history and newer details moved onto it (``lead`` is then removed)."""
    if not lead.email:
        return lead
    keeper = same_person(repo, lead.email, is_test=lead.is_test, other_than=lead.id)
    if keeper is None or keeper.id > lead.id:
        return lead
    for name in _CONTACT_FIELDS:
        if getattr(lead, name):
            setattr(keeper, name, getattr(lead, name))
    keeper.custom_fields = {**(keeper.custom_fields or {}), **(lead.custom_fields or {})}
    if lead.score >= keeper.score:
        keeper.score, keeper.band, keeper.score_breakdown = lead.score, lead.band, lead.score_breakdown
    keeper.summary = lead.summary or keeper.summary
    keeper.conversation_id = lead.conversation_id or keeper.conversation_id
    keeper.consent_record_id = lead.consent_record_id or keeper.consent_record_id
    keeper.updated_at = utcnow()
    session = repo.session
    for conversation in session.exec(repo.select(Conversation).where(
            (Conversation.lead_id == lead.id) | (Conversation.id == lead.conversation_id))).all():
        conversation.lead_id = keeper.id
        session.add(conversation)
    for activity in session.exec(repo.select(LeadActivity).where(LeadActivity.lead_id == lead.id)).all():
        activity.lead_id = keeper.id
        session.add(activity)
    for handoff in session.exec(repo.select(Handoff).where(Handoff.lead_id == lead.id)).all():
        handoff.lead_id = keeper.id
        session.add(handoff)
    session.add(keeper)
    session.flush()
    record(repo, keeper, ActivityKind.MERGED, details={"merged_lead_id": lead.id})
    repo.delete(lead)
    return keeper


def record(repo: OrgRepository, lead: Lead, kind: ActivityKind, *, text: str | None = None,
           details: dict[str, Any] | None = None) -> LeadActivity:
    """One line of the lead's history, by whoever ``repo`` acts for."""
    return repo.add(LeadActivity(organization_id=repo.scope.organization_id, lead_id=lead.id, kind=kind.value,
                                 actor_user_id=repo.scope.user_id, text=text, details=details or {}))


def newest_change(repo: OrgRepository) -> tuple[int, str]:
    """How many leads the organisation has and when the latest changed: a cheap token a page compares to know
    whether to reload (the UI polls it when no pub/sub message can reach it)."""
    count, latest = repo.session.exec(select(func.count(), func.max(Lead.updated_at)).where(
        Lead.organization_id == repo.scope.organization_id)).one()
    return int(count), str(latest or "")
