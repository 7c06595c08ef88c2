"""Outgoing events: what happened in an organisation, queued for each of its webhook endpoints that asked for it.

``emit(session, organization_id, event_type, data)`` writes one ``WebhookDelivery`` per enabled endpoint subscribed
to ``event_type``, in the caller's transaction: the event exists only if the change it reports commits. After the
commit a job asks the worker to deliver (webhook_delivery.py). Every delivery of one event carries the same
``evt_…`` id, on every retry, so a receiver can drop repeats.

Payloads stay small and carry no secrets. A lead's contact details are in lead events: a lead exists only after the
caller agreed to be contacted (services/leads/people.py); erased leads send nothing. Events of test data (test
calls, the simulator, a test-mode key's work) carry ``"livemode": false`` and go only to the endpoints that asked
for them (``Webhook.test_events``); every other event carries ``"livemode": true``.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.jobs import Job, enqueue_after_commit
from quantum_voice.models.calls import Conversation
from quantum_voice.models.developer import DeliveryStatus, Webhook, WebhookDelivery
from quantum_voice.models.handoff import Handoff
from quantum_voice.models.knowledge import Document
from quantum_voice.models.leads import Lead
from quantum_voice.services.tenancy import OrgRepository

log = logging.getLogger(__name__)

EVENT_TYPES = ("call.started", "call.ended", "lead.created", "lead.updated", "lead.scored", "handoff.requested",
               "handoff.completed", "document.ready", "document.failed")
PING = "ping"  # "Send test event": never subscribed to, sent to one endpoint on request
DELIVER_JOB = "webhooks.deliver"
MAX_PAYLOAD_BYTES = 16 * 1024


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def envelope(event_id: str, event_type: str, organization_id: int, data: dict[str, Any],
             created_at: datetime, *, test: bool = False, livemode: bool = True) -> dict[str, Any]:
    payload = {"id": event_id, "type": event_type, "created_at": _iso(created_at),
               "organization_id": organization_id, "livemode": livemode, "data": data}
    if test:
        payload["test"] = True
    return payload


def _bounded(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload, or (over ``MAX_PAYLOAD_BYTES``) the same with ``data`` cut to its ids: never a huge body."""
    if len(json.dumps(payload, default=str)) <= MAX_PAYLOAD_BYTES:
        return payload
    log.warning("webhook event %s (%s) is too large; sending its ids only", payload["id"], payload["type"])
    ids = {key: {k: v for k, v in value.items() if k == "id" or k.endswith("_id")}
           for key, value in payload["data"].items() if isinstance(value, dict)}
    return {**payload, "data": {**ids, "truncated": True}}


def subscribers(session: Session, organization_id: int, event_type: str, *, livemode: bool = True) -> list[Webhook]:
    stmt = select(Webhook).where(Webhook.organization_id == organization_id,
                                 Webhook.enabled.is_(True))  # type: ignore[attr-defined]
    if not livemode:
        stmt = stmt.where(Webhook.test_events.is_(True))  # type: ignore[attr-defined]
    return [hook for hook in session.exec(stmt).all() if event_type in (hook.events or [])]


def emit(where: Session | OrgRepository, organization_id: int, event_type: str,
         data: dict[str, Any], *, livemode: bool = True) -> list[WebhookDelivery]:
    """Queue ``event_type`` for every enabled endpoint of the organisation that subscribed to it (an event of test
    data, ``livemode=False``: only those that also take test events; none: nothing is written). Runs in the
    caller's transaction; delivery starts after its commit."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event_type!r}")
    session = where.session if isinstance(where, OrgRepository) else where
    hooks = subscribers(session, organization_id, event_type, livemode=livemode)
    if not hooks:
        return []
    now = utcnow()
    payload = _bounded(envelope(new_event_id(), event_type, organization_id, data, now, livemode=livemode))
    rows = [WebhookDelivery(organization_id=organization_id, webhook_id=hook.id, event_id=payload["id"],
                            event_type=event_type, payload=payload, status=DeliveryStatus.PENDING.value,
                            next_attempt_at=now, created_at=now) for hook in hooks]
    session.add_all(rows)
    session.flush()
    enqueue_after_commit(session, Job(DELIVER_JOB))
    return rows


# ---------------------------------------------------------------- what each event says

def call_data(conversation: Conversation) -> dict[str, Any]:
    return {"call": {"id": conversation.id, "campaign_id": conversation.campaign_id, "channel": conversation.channel,
                     "status": conversation.status, "lead_id": conversation.lead_id,
                     "started_at": _iso(conversation.started_at), "ended_at": _iso(conversation.ended_at),
                     "duration_seconds": conversation.duration_seconds, "end_reason": conversation.end_reason}}


def lead_data(lead: Lead, **extra: Any) -> dict[str, Any]:
    """The lead as an integration needs it: contact details (given with consent), score, pipeline status."""
    return {"lead": {"id": lead.id, "campaign_id": lead.campaign_id, "call_id": lead.conversation_id,
                     "name": lead.name, "email": lead.email, "phone": lead.phone, "company": lead.company,
                     "interest": lead.interest, "timeline": lead.timeline, "budget": lead.budget,
                     "score": lead.score, "band": lead.band, "status": lead.status,
                     "assignee_user_id": lead.assignee_user_id, "created_at": _iso(lead.created_at),
                     "updated_at": _iso(lead.updated_at)}, **extra}


def handoff_data(handoff: Handoff) -> dict[str, Any]:
    return {"handoff": {"id": handoff.id, "call_id": handoff.conversation_id, "lead_id": handoff.lead_id,
                        "reason": handoff.reason, "priority": handoff.priority, "status": handoff.status,
                        "disposition": handoff.disposition, "assigned_user_id": handoff.assigned_user_id,
                        "requested_at": _iso(handoff.requested_at), "ended_at": _iso(handoff.ended_at)}}


def document_data(document: Document) -> dict[str, Any]:
    return {"document": {"id": document.id, "knowledge_base_id": document.knowledge_base_id, "name": document.name,
                         "source_type": document.source_type, "status": document.status,
                         "chunk_count": document.chunk_count, "error": document.error,
                         "processed_at": _iso(document.processed_at)}}


# ---------------------------------------------------------------- the call sites' one-liners

def call_event(where: Session | OrgRepository, conversation: Conversation, event_type: str) -> None:
    emit(where, conversation.organization_id, event_type, call_data(conversation),
         livemode=not conversation.is_test)


def lead_event(where: Session | OrgRepository, lead: Lead, event_type: str, **extra: Any) -> None:
    if lead.erased_at is None:
        emit(where, lead.organization_id, event_type, lead_data(lead, **extra), livemode=not lead.is_test)


def handoff_event(where: Session | OrgRepository, handoff: Handoff, event_type: str) -> None:
    session = where.session if isinstance(where, OrgRepository) else where
    conversation = session.get(Conversation, handoff.conversation_id)
    emit(session, handoff.organization_id, event_type, handoff_data(handoff),
         livemode=conversation is None or not conversation.is_test)


def document_event(session: Session, document_id: int) -> None:
    """document.ready or document.failed, by the document's status now (after processing wrote it)."""
    session.flush()
    document = session.get(Document, document_id)
    if document is None:
        return
    session.refresh(document)  # the status may have been written by an UPDATE statement in this transaction
    kind = {"ready": "document.ready", "failed": "document.failed"}.get(document.status)
    if kind is not None:
        emit(session, document.organization_id, kind, document_data(document))
