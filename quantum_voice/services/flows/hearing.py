"""One caller turn, heard: its meaning (``intents.understand``) and the flow's variables found in it."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from quantum_voice.services.flows.advice import advised_fields, advised_understanding
from quantum_voice.services.flows.intents import Understanding, understand
from quantum_voice.services.flows.schema import FlowDefinition, Variable
from quantum_voice.services.flows.semantic import IntentMatcher, local_matcher
from quantum_voice.services.flows.understanding import Reading, Understander
from quantum_voice.services.leads import extraction
from quantum_voice.services.leads.emails import EmailCandidate, extract_email

log = logging.getLogger("quantum_voice.flows")
STRONG_NAME_CUE = re.compile(r"\b(?:my name|name is|name's|call me|actually i'm|actually it's)\b", re.I)


@dataclass
class Heard:
    understanding: Understanding
    fields: dict[str, str] = field(default_factory=dict)
    email: EmailCandidate | None = None
    reading: Reading | None = None  # the optional LLM's reading of the turn, when one was asked

    @property
    def text(self) -> str:
        return self.understanding.text


def hear(flow: FlowDefinition, utterance: str, *, expecting: str | None = None,
         known: dict[str, str] | None = None, semantic: IntentMatcher | None | str = "local",
         understander: Understander | None = None, agent_said: str = "") -> Heard:
    """Understand ``utterance``; ``expecting`` is the variable just asked for, so a bare answer ("Ana") counts.
    ``semantic``: the embedding stage behind the rules; "local" is the local model's, ``None`` the rules only.
    ``understander``: an optional LLM whose reading fills what the rules left open (``advice.py``)."""
    understanding = understand(utterance, local_matcher() if semantic == "local" else semantic)
    if understanding.noise or understanding.injection:
        return Heard(understanding)  # nothing said by a prompt injection is ever captured
    reading = _read(understander, utterance, agent_said, expecting, flow)
    if reading is not None:
        understanding = advised_understanding(understanding, reading)
    heard = Heard(understanding, reading=reading)
    for variable in flow.variables:
        value = _extract(variable, utterance, expecting=expecting == variable.key, heard=heard)
        if value and not _weak_name_over_known(variable.key, utterance, expecting, known or {}):
            heard.fields[variable.key] = value[:500]
    if reading is not None:
        kinds = {v.key: v.kind for v in flow.variables}
        for key, value in advised_fields(reading, heard.fields, expecting=expecting, allowed=kinds).items():
            if not _weak_name_over_known(key, utterance, expecting, known or {}):
                heard.fields[key] = value
    return heard


def _read(understander: Understander | None, utterance: str, agent_said: str, expecting: str | None,
          flow: FlowDefinition) -> Reading | None:
    if understander is None or not utterance.strip():
        return None
    try:
        return understander.read(utterance, agent_said=agent_said, expecting=expecting,
                                 variables=[v.key for v in flow.variables])
    except Exception:  # noqa: BLE001 - the rules alone carry the call
        log.warning("the understanding provider failed; using the rules alone", exc_info=True)
        return None


def _extract(variable: Variable, text: str, *, expecting: bool, heard: Heard) -> str | None:
    key, kind = variable.key, variable.kind
    if kind == "standard":
        if key == "email":
            heard.email = extract_email(text)
            return heard.email.address if heard.email else None
        if key == "name":
            return extraction.extract_name(text, expecting=expecting and _answers_plainly(heard.understanding))
        return {"phone": extraction.extract_phone, "interest": extraction.extract_interest,
                "timeline": extraction.extract_timeline, "budget": extraction.extract_budget}[key](text)
    if kind == "choice":
        return extraction.extract_choice(text, variable.choices)
    if kind == "pattern":
        return extraction.extract_pattern(text, variable.pattern or "")
    if kind == "date_time":
        return extraction.extract_date_time(text)
    return _free_text(text, heard.understanding) if expecting else None  # kind "text": the answer to its question


_GREETING_ONLY = re.compile(r"^\W*(?:oh\W+)?(?:hi|hello|hey|hiya|howdy|greetings|yo|good (?:morning|afternoon|evening))"
                            r"(?:\W+(?:there|again|everyone|guys|you))?\W*$")
_NOT_A_PLAIN_ANSWER = ("consent", "question", "refusal", "small_talk", "clarify", "goodbye", "handoff", "repeat")


def _answers_plainly(understanding: Understanding) -> bool:
    """A bare word is a name only as a plain answer to the name question: not "Yes, correct, I agree", "Hello.",
    "I'd rather not", a question or a goodbye."""
    if _GREETING_ONLY.match(understanding.text.lower()):
        return False  # "Hello there." is a greeting, not a name
    return not any(getattr(understanding, name) for name in _NOT_A_PLAIN_ANSWER)


def _free_text(text: str, understanding: Understanding) -> str | None:
    if understanding.unsure or understanding.goodbye or understanding.handoff or len(text.split()) < 2:
        return None
    return " ".join(text.split())


def _weak_name_over_known(key: str, text: str, expecting: str | None, known: dict[str, str]) -> bool:
    """"I'm calling for my wife" must not rename a known caller; "my name is ..." or a direct answer may."""
    return key == "name" and bool(known.get("name")) and expecting != "name" and not STRONG_NAME_CUE.search(text)
