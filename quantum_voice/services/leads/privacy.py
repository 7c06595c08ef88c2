"""A person's rights over their data: a copy of everything held about them (JSON), and erasure.

Erasure replaces the personal data of the lead, the transcripts of all the person's calls, the questions they
asked and the organisation's outbox mail about them with a tombstone. The consent tickets stay, as the legal
record of what was agreed, and note when the erasure happened. Both acts are in the audit log; the lead's
history keeps an "erased" line (with who did it, nothing personal).
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import col

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.calls import ConsentRecord, TranscriptTurn
from quantum_voice.models.handoff import Handoff
from quantum_voice.models.knowledge import KnowledgeQuery
from quantum_voice.models.leads import ActivityKind, Lead, LeadActivity
from quantum_voice.models.system import EmailMessage
from quantum_voice.services import audit
from quantum_voice.services.leads.live import announce_after_commit
from quantum_voice.services.leads.people import record
from quantum_voice.services.leads.records import calls_of, lead_detail
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

TOMBSTONE = "[erased at the person's request]"
_PERSONAL_FIELDS = ("name", "email", "phone", "company", "interest", "timeline", "budget", "summary")


def export_person(repo: OrgRepository, lead_id: int) -> dict[str, Any]:
    """Everything held about the lead's person, as one JSON-ready document."""
    repo.scope.require(Permission.MANAGE_LEADS)
    detail = lead_detail(repo, lead_id)
    lead = detail.lead
    document = {
        "lead": {name: getattr(lead, name) for name in ("id", *_PERSONAL_FIELDS, "custom_fields", "score", "band",
                                                           "score_breakdown", "status")}
        | {"campaign": detail.campaign_name, "created_at": lead.created_at.isoformat(),
           "erased_at": lead.erased_at.isoformat() if lead.erased_at else None},
        "calls": [{"id": call.conversation.id, "started_at": call.conversation.started_at.isoformat(),
                   "ended_at": call.conversation.ended_at.isoformat() if call.conversation.ended_at else None,
                   "came_by": call.came_by, "summary": call.conversation.summary,
                   "consent": _consent(call.consent),
                   "transcript": [{"speaker": t.speaker, "text": t.text, "offset_ms": t.offset_ms}
                                  for t in call.transcript]} for call in detail.calls],
        "notes": [{"text": a.text, "at": a.created_at.isoformat()} for a, _ in detail.activities
                  if a.kind == ActivityKind.NOTE.value],
    }
    audit.record(repo.session, "lead.exported", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="lead", target_id=lead.id)
    record(repo, lead, ActivityKind.EXPORTED)
    return document


def _consent(consent: ConsentRecord | None) -> dict[str, Any] | None:
    if consent is None:
        return None
    return {"ticket": consent.public_id, "granted": consent.granted, "email": consent.email,
            "wording": consent.wording, "policy_version": consent.policy_version,
            "given_at": consent.created_at.isoformat()}


def erase_person(repo: OrgRepository, lead_id: int) -> Lead:
    """Replace everything personal about the lead's person with a tombstone (see the module's docstring)."""
    repo.scope.require(Permission.MANAGE_LEADS)
    lead = repo.get(Lead, lead_id)
    if lead.erased_at is not None:
        raise ValidationFailed("This person's data was already erased.", field="lead")
    now = utcnow()
    identifiers = [v for v in (lead.email, lead.phone, lead.name) if v and len(v) >= 3]
    conversations = calls_of(repo, lead)
    conversation_ids = [c.id for c in conversations]
    session = repo.session
    for turn in session.exec(repo.select(TranscriptTurn).where(
            col(TranscriptTurn.conversation_id).in_(conversation_ids))).all() if conversation_ids else []:
        turn.text, turn.meta = TOMBSTONE, {"erased": True}
        session.add(turn)
    for query in session.exec(repo.select(KnowledgeQuery).where(
            col(KnowledgeQuery.conversation_id).in_(conversation_ids))).all() if conversation_ids else []:
        query.query = TOMBSTONE
        session.add(query)
    for conversation in conversations:
        conversation.summary, conversation.user_agent, conversation.caller_ip_hash = None, None, None
        conversation.flow_state = {}
        session.add(conversation)
    for handoff in session.exec(repo.select(Handoff).where(
            col(Handoff.conversation_id).in_(conversation_ids))).all() if conversation_ids else []:
        handoff.reason_detail, handoff.notes = None, None
        session.add(handoff)
    for consent in session.exec(repo.select(ConsentRecord).where(
            col(ConsentRecord.conversation_id).in_(conversation_ids))).all() if conversation_ids else []:
        consent.erased_at = now
        session.add(consent)
    _erase_mail(repo, identifiers)
    for note in session.exec(repo.select(LeadActivity).where(LeadActivity.lead_id == lead.id)).all():
        if note.text:
            note.text = TOMBSTONE
        note.details = {k: v for k, v in (note.details or {}).items() if k in ("from", "to", "conversation_id",
                                                                               "channel", "status", "attempt")}
        session.add(note)
    for name in _PERSONAL_FIELDS:
        setattr(lead, name, None)
    lead.name, lead.custom_fields, lead.score_breakdown = TOMBSTONE, {}, []
    lead.erased_at = lead.updated_at = now
    session.add(lead)
    session.flush()
    record(repo, lead, ActivityKind.ERASED)
    audit.record(session, "lead.erased", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="lead", target_id=lead.id,
                 calls=len(conversation_ids))
    announce_after_commit(session, lead.organization_id, lead.id, "erased")
    return lead


def _erase_mail(repo: OrgRepository, identifiers: list[str]) -> None:
    """The organisation's outbox mail to or about the person: their identifiers replaced in place, mail addressed
    to them wholly."""
    if not identifiers:
        return
    pattern = re.compile("|".join(re.escape(i) for i in sorted(identifiers, key=len, reverse=True)), re.I)
    session = repo.session
    mails = session.exec(repo.select(EmailMessage).where(EmailMessage.organization_id == repo.scope.organization_id)
                         .order_by(col(EmailMessage.id).desc()).limit(50_000)).all()
    for mail in mails:
        if mail.to_address.lower() in (i.lower() for i in identifiers):
            mail.to_address, mail.subject, mail.body_text, mail.body_html = "erased@invalid", TOMBSTONE, TOMBSTONE, None
        elif any(pattern.search(part or "") for part in (mail.subject, mail.body_text, mail.body_html)):
            mail.subject = pattern.sub(TOMBSTONE, mail.subject)
            mail.body_text = pattern.sub(TOMBSTONE, mail.body_text)
            mail.body_html = pattern.sub(TOMBSTONE, mail.body_html) if mail.body_html else None
        else:
            continue
        session.add(mail)
