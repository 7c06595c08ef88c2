"""Did a persona's call go right? Judged from what the database holds after the call (Lead, ConsentRecord,
Conversation, Handoff rows), plus what the agent said to each question, as a person reviewing the call would.

Each check has a name and, when it fails, a reason; a persona passes when every check passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.conversations.calls import CallRecord
from bench.conversations.facts import missing_facts
from bench.conversations.material import Persona, Question

HANDOFF_END_OK = "handed_off"
# The brief counted +1 turn for a refusal; but the refusal answers the name question in the name's own turn, so an
# agent that moves on at once would score -1 "over" the minimum. Set to 1 to count as the brief did.
REFUSAL_EXTRA_TURNS = 0


@dataclass
class Check:
    name: str
    passed: bool
    reason: str = ""


@dataclass
class PersonaResult:
    business: str
    persona: str
    passed: bool
    failures: list[Check]
    checks: list[Check]
    capture_turns: int | None
    minimum_turns: int
    transcript: str
    conversation_id: int

    @property
    def turns_over_minimum(self) -> int | None:
        return None if self.capture_turns is None else self.capture_turns - self.minimum_turns

    def to_json(self) -> dict:
        return {"business": self.business, "persona": self.persona, "passed": self.passed,
                "failures": [{"check": c.name, "reason": c.reason} for c in self.failures],
                "capture_turns": self.capture_turns, "minimum_turns": self.minimum_turns,
                "turns_over_minimum": self.turns_over_minimum, "transcript": self.transcript}


def minimum_lead_turns(persona: Persona, *, phone_asked: bool = False) -> int:
    """The fewest caller turns that can give the agent what the lead needs, for this persona.

    Typed email: only the name (0 without one). Spoken: name, email, then the read-back with consent (3), one less
    when name and email come together in the opening; one more for a correction. A refusal takes the turn the
    field would have taken, so it adds ``REFUSAL_EXTRA_TURNS`` (0): an agent that moves straight on after "I'd
    rather not say" is at the minimum. A phone number costs a turn only when the agent asked for one (this
    template does not)."""
    if persona.typed_email:
        return (1 if persona.gives_name else 0) + (1 if persona.corrects == "name" else 0)
    turns = 3
    if persona.volunteers.get("name") and persona.volunteers.get("email"):
        turns -= 1
    turns += 1 if persona.corrects else 0
    turns += REFUSAL_EXTRA_TURNS if "name" in persona.refuses or not persona.name else 0
    if phone_asked:  # this template does not ask for a phone number; a flow that does costs a turn for it
        turns += 1
    return turns


def stored(conversation_id: int) -> dict:
    """What the database holds for the call."""
    from sqlmodel import select

    from quantum_voice.core.db import session_scope
    from quantum_voice.models.calls import ConsentRecord, Conversation
    from quantum_voice.models.handoff import Handoff
    from quantum_voice.models.leads import Lead

    with session_scope() as session:
        return {
            "conversation": session.get(Conversation, conversation_id),
            "leads": list(session.exec(select(Lead).where(Lead.conversation_id == conversation_id)).all()),
            "consents": list(session.exec(select(ConsentRecord).where(
                ConsentRecord.conversation_id == conversation_id)).all()),
            "handoffs": list(session.exec(select(Handoff).where(Handoff.conversation_id == conversation_id)).all()),
        }


def judge(business_key: str, record: CallRecord, questions: dict[str, Question]) -> PersonaResult:
    persona, db = record.persona, stored(record.conversation_id)
    lead = db["leads"][0] if db["leads"] else None
    checks = [
        _no_error(record),
        _email(persona, lead),
        _name(persona, lead),
        _consent(persona, db["consents"]),
        *_questions(record, questions),
        _no_handoff(persona, record, db["handoffs"]),
        _ended(persona, record, db["conversation"]),
        _band(persona, lead),
        _refusals(record),
        _confirmed_email(persona, record, lead),
        _off_topic(record),
    ]
    checks = [c for c in checks if c is not None]
    failures = [c for c in checks if not c.passed]
    return PersonaResult(business=business_key, persona=persona.id, passed=not failures, failures=failures,
                         checks=checks, capture_turns=record.capture_turns if persona.consents else None,
                         minimum_turns=minimum_lead_turns(persona, phone_asked=any(
                             t.heard.kind == "phone" for t in record.caller.turns)), transcript=record.transcript(),
                         conversation_id=record.conversation_id)


def _off_topic(record: CallRecord) -> Check | None:
    """Small talk about the world ("who won the game?") is never promised a follow-up from the team."""
    replies = [e.agent for e in record.exchanges if e.purpose == "off_topic"]
    if not replies:
        return None
    promised = [r for r in replies if "follow up" in r.lower()]
    return Check("off-topic question", not promised, f"the agent offered a follow-up: {promised[0]!r}" if promised
                 else "")


def _no_error(record: CallRecord) -> Check:
    return Check("call ran", record.error is None, record.error or "")


def _email(persona: Persona, lead) -> Check:
    if persona.consents:
        got = lead.email if lead else None
        return Check("lead email", got == persona.email, f"stored {got!r}, expected {persona.email!r}")
    kept = {k: getattr(lead, k) for k in ("email", "name", "phone") if lead is not None and getattr(lead, k)}
    return Check("no personal data without consent", not kept, f"stored {kept} after consent was refused")


def _name(persona: Persona, lead) -> Check | None:
    if not persona.consents:
        return None
    got = (lead.name if lead else None) or None
    if persona.gives_name:
        ok = got is not None and got.casefold() == persona.name.casefold()
        return Check("lead name", ok, f"stored {got!r}, expected {persona.name!r}")
    return Check("no name stored", got is None, f"stored name {got!r} though the caller gave none")


def _consent(persona: Persona, consents: list) -> Check:
    granted = [c for c in consents if c.granted]
    refused = [c for c in consents if not c.granted]
    if persona.consents:
        return Check("consent recorded", bool(granted), f"consent records: {[c.granted for c in consents]}")
    return Check("refusal recorded", bool(refused) and not granted,
                 f"consent records: {[c.granted for c in consents]} (expected one refusal)")


def _questions(record: CallRecord, questions: dict[str, Question]) -> list[Check]:
    checks = []
    for qid in record.persona.questions:
        question = questions[qid]
        replies = [e for e in record.exchanges if e.question_id == qid]
        said = " ".join(e.agent for e in replies)
        if not replies:
            checks.append(Check(f"question {qid}", False, f"never asked ({question.ask!r}): the call ended first"))
        elif question.answerable:
            missing = missing_facts(said, question.facts)
            checks.append(Check(f"question {qid}", not missing,
                                f"{question.ask!r}: expected {[list(g) for g in missing]}, agent said {said!r}"))
        else:
            invented = any("answer" in e.actions for e in replies)
            checks.append(Check(f"question {qid} (out of scope)", not invented,
                                f"{question.ask!r}: presented as an answer: {said!r}"))
    return checks


def _no_handoff(persona: Persona, record: CallRecord, handoffs: list) -> Check | None:
    if persona.wants_human:
        return None
    handed = bool(handoffs) or record.status == HANDOFF_END_OK or any("handoff" in e.actions
                                                                        for e in record.exchanges)
    reasons = [f"{h.reason}: {h.reason_detail}" for h in handoffs]
    return Check("no hand-off", not handed, f"handed off ({reasons or record.status})")


def _ended(persona: Persona, record: CallRecord, conversation) -> Check:
    by_flow = conversation.status == "ended" and conversation.end_reason not in ("caller_hung_up",)
    ok = not record.hit_cap and (by_flow or (persona.wants_human and record.status == HANDOFF_END_OK))
    why = ("hit the cap of turns" if record.hit_cap else
           f"status {record.status}, end reason {conversation.end_reason!r}")
    return Check("ended by the flow", ok, why)


def _band(persona: Persona, lead) -> Check | None:
    band = persona.expect.get("band")
    if not band:
        return None
    got = lead.band if lead else None
    return Check("band", got == band, f"band {got!r} (score {lead.score if lead else None}), expected {band!r}")


def _refusals(record: CallRecord) -> Check | None:
    asked_again = [n for n in record.notes if n.startswith("asked again after refusal")]
    if not record.caller.refused:
        return None
    return Check("refusal respected", not asked_again, "; ".join(asked_again))


def _confirmed_email(persona: Persona, record: CallRecord, lead) -> Check | None:
    """A spoken (dotted or spelled) address is stored only after the caller confirmed its read-back."""
    if persona.typed_email or persona.email_style == "plain" or lead is None or not lead.email:
        return None
    ok = lead.email in record.caller.confirmed_emails
    return Check("spoken email confirmed", ok, f"stored {lead.email!r}, caller confirmed "
                                               f"{sorted(record.caller.confirmed_emails)}")
