"""Taking an LLM's reading of a turn as advice: it fills gaps the rules left, and never overrules them.

The rules (``intents``, the extractors) run first and decide whatever they can. A ``Reading`` from the optional
understanding provider (``understanding.py``) may then add an intent when the rules found none (a plain
statement, or "unsure"), supply the caller's questions rewritten to stand alone (better for the knowledge
search), and offer fields the extractors missed. Every offered value goes back through the same extractors and
rules a spoken value would: an email must parse as one (and is still read back), a phone must hold 7 to 15
digits, a name must look like one and only counts as the answer to the name question. So a model can make the
agent understand more, never store more than the rules allow.
"""

from __future__ import annotations

from dataclasses import replace

from quantum_voice.services.flows.intents import Understanding
from quantum_voice.services.flows.understanding import Reading
from quantum_voice.services.leads import extraction
from quantum_voice.services.leads.emails import extract_email
from quantum_voice.services.leads.names import could_be_a_name

# what a reading's intent sets on an Understanding the rules left without one
_INTENT_FLAGS = {
    "yes": {"answer": "yes"}, "no": {"answer": "no"}, "consent_yes": {"consent": "yes"},
    "consent_no": {"consent": "no"}, "refuse": {"refusal": True}, "correction": {"correction": True},
    "greeting": {"greeting": True}, "small_talk": {"small_talk": True}, "handoff": {"handoff": True},
    "goodbye": {"goodbye": True}, "repeat": {"repeat": True},
}
_OPEN_INTENTS = ("statement", "unsure")


def advised_understanding(said: Understanding, reading: Reading) -> Understanding:
    """The rules' understanding, with the reading's intent where the rules had none, and its questions."""
    if said.intent in _OPEN_INTENTS:
        if reading.intent == "question" and reading.questions:
            return replace(said, question=True, questions=list(reading.questions), matched="llm")
        flags = _INTENT_FLAGS.get(reading.intent)
        if flags:
            return replace(said, **flags, matched="llm")
    if said.question and reading.questions and reading.intent == "question":
        return replace(said, questions=list(reading.questions))  # standalone wording searches better
    return said


def advised_fields(reading: Reading, found: dict[str, str], *, expecting: str | None,
                   allowed: dict[str, str]) -> dict[str, str]:
    """Fields the reading offers that the extractors did not find, each checked as a spoken value would be.
    ``allowed`` maps the flow's variable keys to their kinds."""
    offered: dict[str, str] = {}
    for key, value in reading.slots.items():
        if key in found or key not in allowed or not value.strip():
            continue
        checked = _checked(key, allowed[key], value, expecting=expecting)
        if checked:
            offered[key] = checked[:500]
    return offered


def _checked(key: str, kind: str, value: str, *, expecting: str | None) -> str | None:
    if key == "email":
        email = extract_email(value)
        return email.address if email else None
    if key == "phone":
        return extraction.extract_phone(value)
    if key == "name":
        words = value.split()
        if expecting != "name" or not 1 <= len(words) <= 3 or not could_be_a_name(words[0]):
            return None  # a name only as the answer to the name question, and only one that looks like a name
        return extraction.extract_name(value, expecting=True)
    if kind in ("choice", "pattern"):
        return None  # the flow's own list or pattern decides those
    return " ".join(value.split())
