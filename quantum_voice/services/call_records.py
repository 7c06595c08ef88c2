"""What one engine step leaves in the database: transcript turns, the consent record, the lead (written as the
call goes, finalised at its end), hand-off requests, and the conversation's status.

Privacy: personal details are stored only after consent. Turns that carried them before consent are flagged,
and blanked if consent is refused or never given; after a refusal, caller turns with contact details are
blanked as they are written.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from quantum_voice.core.clock import utcnow
from quantum_voice.models.calls import ConsentRecord, Conversation, ConversationStatus, Speaker, TranscriptTurn
from quantum_voice.models.handoff import Handoff, HandoffStatus
from quantum_voice.models.leads import Lead
from quantum_voice.services.developer import webhook_events
from quantum_voice.services.flows.schema import STANDARD_FIELDS, FlowDefinition
from quantum_voice.services.flows.state import Action, FlowState, StepResult
from quantum_voice.services.handoffs import live as handoff_live
from quantum_voice.services.handoffs import on_the_call
from quantum_voice.services.leads.emails import extract_email
from quantum_voice.services.leads.extraction import extract_name, extract_phone
from quantum_voice.services.leads.live import announce_after_commit
from quantum_voice.services.leads.people import lead_for_call, merge_into_person
from quantum_voice.services.leads.scoring import LeadScore, score_lead
from quantum_voice.services.notifications import queue_lead_notifications, queue_missed_handoff
from quantum_voice.services.tenancy import OrgRepository

REDACTED = "[removed: personal details the caller did not consent to us keeping]"
HANDOFF_PRIORITY = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
_LEAD_COLUMN_LIMITS = {"name": 200, "email": 320, "phone": 40, "interest": 500, "timeline": 200, "budget": 200}


def apply_step(repo: OrgRepository, conversation: Conversation, flow: FlowDefinition, step: StepResult, *,
               caller: str | None, agent: str, caller_node: str | None = None,
               stt_confidence: float | None = None) -> None:
    now = utcnow()
    _add_turns(repo, conversation, step, caller=caller, agent=agent, caller_node=caller_node,
               stt_confidence=stt_confidence, now=now)
    lead = lead_of_call(repo, conversation)
    for action in step.of_kind("consent"):
        record = _consent_record(repo, conversation, action)
        if action.data.get("granted"):
            lead = lead or lead_for_call(repo, conversation, consent_record_id=record.id)
            announce_after_commit(repo.session, lead.organization_id, lead.id, "created")
        else:
            redact_personal_turns(repo, conversation.id)
    if lead is not None and step.state.consent:
        update_lead(lead, flow, step.state, now, before=conversation.flow_state.get("lead_before"))
    for action in step.of_kind("handoff"):
        _hand_off(repo, conversation, lead, action)
    for action in step.of_kind("callback"):
        on_the_call.note_callback(repo, conversation.id, str(action.data.get("when", ""))[:200])
    if step.state.status == "active" and conversation.status == ConversationStatus.HANDED_OFF.value:
        conversation.status = ConversationStatus.ACTIVE.value  # back from the queue (no one came, or handed back)
    if step.of_kind("end"):
        _finish(repo, conversation, flow, step.state, lead, now)


def lead_of_call(repo: OrgRepository, conversation: Conversation) -> Lead | None:
    if conversation.lead_id is not None:
        found = repo.list(Lead, Lead.id == conversation.lead_id, limit=1)
    else:  # a call from before calls knew their lead
        found = repo.list(Lead, Lead.conversation_id == conversation.id, limit=1)
    return found[0] if found else None


# ---------------------------------------------------------------- transcript

def _add_turns(repo: OrgRepository, conversation: Conversation, step: StepResult, *, caller: str | None, agent: str,
               caller_node: str | None, stt_confidence: float | None, now: datetime) -> None:
    seq = repo.count(TranscriptTurn, TranscriptTurn.conversation_id == conversation.id)
    offset_ms = int((now - conversation.started_at).total_seconds() * 1000)
    captures = step.of_kind("capture")
    if caller is not None:
        personal = any(a.data.get("personal") for a in captures)
        text = REDACTED if step.state.consent is False and _has_contact_details(caller) else caller
        repo.add(TranscriptTurn(organization_id=repo.scope.organization_id, conversation_id=conversation.id,
                                seq=seq, speaker=Speaker.CALLER.value, text=text, node_id=caller_node,
                                confidence=stt_confidence, offset_ms=offset_ms,
                                meta={"personal": personal, "captured": [a.data["field"] for a in captures],
                                      **_understanding_meta(step)}))
        seq += 1
    if agent:
        repo.add(TranscriptTurn(organization_id=repo.scope.organization_id, conversation_id=conversation.id,
                                seq=seq, speaker=Speaker.AGENT.value, text=agent, node_id=step.node_id,
                                offset_ms=offset_ms, meta=_agent_meta(step)))


def add_person_turn(repo: OrgRepository, conversation: Conversation, text: str, *, name: str,
                    consent_refused: bool) -> TranscriptTurn:
    """What the team member who took the call said (transcribed on the voice sidecar), after the turns so far. The
    caller must hold the conversation's row lock (``conversations.add_person_turn``), as a flow step does."""
    now = utcnow()
    seq = repo.count(TranscriptTurn, TranscriptTurn.conversation_id == conversation.id)
    text = REDACTED if consent_refused and _has_contact_details(text) else text
    return repo.add(TranscriptTurn(organization_id=repo.scope.organization_id, conversation_id=conversation.id,
                                   seq=seq, speaker=Speaker.HUMAN_AGENT.value, text=text,
                                   offset_ms=int((now - conversation.started_at).total_seconds() * 1000),
                                   meta={"name": name[:120]}))


def _understanding_meta(step: StepResult) -> dict[str, Any]:
    """The optional LLM's reading of the caller's turn: which model, what it made of it, its latency and tokens."""
    readings = step.of_kind("understood")
    return {"understanding": dict(readings[0].data)} if readings else {}


def _agent_meta(step: StepResult) -> dict[str, Any]:
    return {"node_type": step.node_type, "actions": [a.kind for a in step.actions],
            "personal": any(a.data.get("personal") for a in step.actions if a.kind in ("ask", "say")),
            "answers": [{"confidence": a.data.get("confidence"), "citations": a.data.get("citations", []),
                         **({"tentative": True} if a.data.get("tentative") else {})}
                        for a in step.of_kind("answer")]}


def _has_contact_details(text: str) -> bool:
    return bool(extract_email(text) or extract_phone(text) or extract_name(text))


def redact_personal_turns(repo: OrgRepository, conversation_id: int) -> int:
    """Blank every turn of the call that carried personal details. Returns how many were blanked."""
    count = 0
    for turn in repo.list(TranscriptTurn, TranscriptTurn.conversation_id == conversation_id, limit=100_000):
        if (turn.meta or {}).get("personal"):
            turn.text, turn.meta = REDACTED, {**turn.meta, "personal": False, "redacted": True}
            count += 1
    repo.session.flush()
    return count


# ---------------------------------------------------------------- consent, lead, hand-off, the end

def _consent_record(repo: OrgRepository, conversation: Conversation, action: Action) -> ConsentRecord:
    granted = bool(action.data.get("granted"))
    return repo.add(ConsentRecord(
        organization_id=repo.scope.organization_id, public_id=str(uuid.uuid4()),
        campaign_id=conversation.campaign_id, conversation_id=conversation.id,
        email=action.data.get("email") if granted else None, granted=granted,
        wording=action.data.get("wording") or "", policy_version=str(action.data.get("policy_version") or "1")[:40],
        user_agent=conversation.user_agent))


def update_lead(lead: Lead, flow: FlowDefinition, state: FlowState, now: datetime,
                before: dict[str, Any] | None = None) -> LeadScore:
    """Copy the call's variables and score onto the lead (only ever called with consent). A returning caller's
    lead keeps ``before``, its score from earlier calls, when this call scores lower."""
    for key, limit in _LEAD_COLUMN_LIMITS.items():
        value = state.variables.get(key)
        if value is not None:
            setattr(lead, key, value[:limit])
    earlier = dict(lead.custom_fields or {}) if before else {}
    lead.custom_fields = {**earlier, **{k: v for k, v in state.variables.items() if k not in STANDARD_FIELDS}}
    score = score_lead(state.variables, state.said, flow.scoring, questions_asked=state.questions_asked)
    if before and before.get("score", 0) > score.score:
        lead.score, lead.band, lead.score_breakdown = before["score"], before["band"], before["breakdown"]
    else:
        lead.score, lead.band, lead.score_breakdown = score.score, score.band, score.breakdown
    lead.updated_at = now
    return score


def _hand_off(repo: OrgRepository, conversation: Conversation, lead: Lead | None, action: Action) -> None:
    """The request for a person. Held (someone can take the call): the call waits in the queue. Not held (no one
    can): the request is kept for the team to follow up, as ``abandoned``, and the AI carries on with the call."""
    held = action.data.get("held", True)
    if held:
        conversation.status = ConversationStatus.HANDED_OFF.value
    if conversation.is_test:
        return  # simulator calls never reach the agents' queue
    handoff = repo.add(Handoff(organization_id=repo.scope.organization_id, conversation_id=conversation.id,
                     lead_id=lead.id if lead else None, reason=str(action.data.get("reason", "flow"))[:30],
                     reason_detail=(action.data.get("detail") or None) and str(action.data["detail"])[:500],
                     priority=HANDOFF_PRIORITY.get(action.data.get("priority", "normal"), 2),
                     required_skill=action.data.get("skill"),
                     status=(HandoffStatus.WAITING if held else HandoffStatus.ABANDONED).value,
                     notes=None if held else "No one could take the call live; the caller was told the team will "
                                             "follow up."))
    webhook_events.handoff_event(repo, handoff, "handoff.requested")
    if held:
        handoff_live.announce_after_commit(repo.session, repo.scope.organization_id, "requested",
                                           handoff_id=handoff.id)


def _finish(repo: OrgRepository, conversation: Conversation, flow: FlowDefinition, state: FlowState,
            lead: Lead | None, now: datetime) -> None:
    conversation.status = ConversationStatus.ENDED.value
    conversation.ended_at = now
    on_the_call.abandon_on_hang_up(repo, conversation.id, now)
    conversation.duration_seconds = round((now - conversation.started_at).total_seconds(), 3)
    conversation.end_reason = (state.end_reason or "completed")[:60]
    if lead is not None and state.consent:
        score = update_lead(lead, flow, state, now, before=conversation.flow_state.get("lead_before"))
        lead.summary = lead_summary(state.variables, score, requests=state.requests, unanswered=state.unanswered)
        conversation.summary = lead.summary
        merged_from = lead.id
        lead = merge_into_person(repo, lead)
        webhook_events.lead_event(repo, lead, "lead.scored", score_breakdown=list(lead.score_breakdown or []),
                                  **({"merged_lead_id": merged_from} if lead.id != merged_from else {}))
        queue_lead_notifications(repo, lead)
        for handoff in on_the_call.missed(repo, conversation.id):
            queue_missed_handoff(repo, lead, handoff)
        announce_after_commit(repo.session, lead.organization_id, lead.id, "call_ended")
    if state.consent is not True:
        redact_personal_turns(repo, conversation.id)
    webhook_events.call_event(repo, conversation, "call.ended")


def lead_summary(variables: dict[str, str], score: LeadScore, *, requests: list[str] = (),
                 unanswered: list[str] = ()) -> str:
    """One plain paragraph for the lead list and notifications, from facts only: what the caller wants, what they
    asked the team to do, and what the documents could not answer (the team's follow-up)."""
    parts = []
    for key, label in (("interest", "Interested in"), ("timeline", "Timeline:"), ("budget", "Budget:")):
        if variables.get(key):
            parts.append(f"{label} {variables[key]}.")
    signals = [item["label"].lower() for item in score.breakdown if item["rule"] not in
               ("mentioned_timeline", "stated_budget", "named_interest")]
    if signals:
        parts.append(f"{'; '.join(signals).capitalize()}.")
    if requests:
        parts.append(f"Asked the team: {'; '.join(requests)}")
    if unanswered:
        parts.append(f"Not answered on the call: {'; '.join(unanswered)}")
    parts.append(f"Score {score.score} ({score.band}).")
    return " ".join(parts)
