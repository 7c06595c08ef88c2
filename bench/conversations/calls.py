"""Running one persona's call through ``start_conversation`` / ``take_turn``, the code path of real calls.

Every turn runs in its own session (as each voice-sidecar turn does), so the lead, consent record, transcript
and hand-off rows are written exactly as in production; the checks then read them from the database. After
each turn the lead is looked up to see when it became complete (the turns-to-capture measure).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench.conversations.caller import DETOURS, SimulatedCaller
from bench.conversations.material import Business, Persona
from bench.conversations.setup import BusinessSetup, acting, consent_ticket

MAX_TURNS = 30


@dataclass
class Exchange:
    """One caller turn (``None`` for the greeting) and the agent's answer to it."""

    caller: str | None
    purpose: str | None
    question_id: str | None
    agent: str
    actions: list[str]  # kinds of the step's actions (``action_label``)
    node_id: str | None
    step_ms: float


@dataclass
class CallRecord:
    persona: Persona
    conversation_id: int
    exchanges: list[Exchange]
    caller: SimulatedCaller
    capture_turns: int | None  # lead turns until the lead was complete; None: never
    status: str  # the flow's last status: active | handed_off | ended
    hit_cap: bool
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def transcript(self) -> str:
        lines = []
        for exchange in self.exchanges:
            if exchange.caller is not None:
                lines.append(f"    caller: {exchange.caller!r}  [{exchange.purpose}]")
            lines.append(f"    agent:  {exchange.agent!r}  <{exchange.node_id}; {', '.join(exchange.actions)}>")
        return "\n".join(lines)


def lead_complete(conversation_id: int, persona: Persona) -> bool:
    """The lead holds a consented email (and the name, when the persona gives one)."""
    from sqlmodel import select

    from quantum_voice.core.db import session_scope
    from quantum_voice.models.calls import ConsentRecord
    from quantum_voice.models.leads import Lead

    with session_scope() as session:
        lead = session.exec(select(Lead).where(Lead.conversation_id == conversation_id)).first()
        if lead is None or not lead.email or lead.consent_record_id is None:
            return False
        record = session.get(ConsentRecord, lead.consent_record_id)
        return bool(record and record.granted) and (bool(lead.name) or not persona.gives_name)


def play(setup: BusinessSetup, persona: Persona) -> CallRecord:
    from quantum_voice.services.conversations import CallSetup, end_conversation, start_conversation, take_turn

    business: Business = setup.business
    caller = SimulatedCaller(persona, business.questions)
    call_setup = CallSetup(channel="api", is_test=True)
    if persona.typed_email:
        call_setup.caller_email = persona.email
        call_setup.consent_record_id = consent_ticket(setup, persona.email)
    started = time.perf_counter()
    with acting(setup) as repo:
        outcome = start_conversation(repo, setup.campaign_id, call_setup)
    conversation_id = outcome.conversation.id
    exchanges = [_exchange(None, None, None, outcome, started)]
    lead_turns, capture_turns = 0, 0 if lead_complete(conversation_id, persona) else None
    error = None
    status = outcome.step.state.status
    text = caller.opening()
    try:
        while status == "active" and len(exchanges) <= MAX_TURNS:
            if text is None:
                text = caller.reply(outcome.agent)
            if text is None:
                break
            turn = caller.turns[-1]
            started = time.perf_counter()
            with acting(setup) as repo:
                outcome = take_turn(repo, conversation_id, text)
            exchanges.append(_exchange(text, turn.purpose, turn.question_id, outcome, started))
            status, text = outcome.step.state.status, None
            if turn.purpose not in DETOURS:
                lead_turns += 1
            if capture_turns is None and lead_complete(conversation_id, persona):
                capture_turns = lead_turns
    except Exception as exc:  # noqa: BLE001 - a crash is a failed call, reported with its transcript
        error = f"{type(exc).__name__}: {exc}"
    hit_cap = status == "active" and len(exchanges) > MAX_TURNS
    if status != "ended":
        with acting(setup) as repo:
            end_conversation(repo, conversation_id, reason="caller_hung_up")
    return CallRecord(persona=persona, conversation_id=conversation_id, exchanges=exchanges, caller=caller,
                      capture_turns=capture_turns, status=status, hit_cap=hit_cap, error=error,
                      notes=list(caller.notes))


def action_label(action) -> str:
    """The action's kind; an answer offered tentatively ("the closest I have ... does that answer it?") is
    ``tentative``: it is not presented as the answer."""
    return "tentative" if action.kind == "answer" and action.data.get("tentative") else action.kind


def _exchange(caller: str | None, purpose: str | None, question_id: str | None, outcome, started: float) -> Exchange:
    return Exchange(caller=caller, purpose=purpose, question_id=question_id, agent=outcome.agent,
                    actions=[action_label(a) for a in outcome.step.actions], node_id=outcome.step.node_id,
                    step_ms=round((time.perf_counter() - started) * 1000, 1))
