"""One caller turn, heard: its meaning (``intents.understand``) and the flow's variables found in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from quantum_voice.services.flows.intents import Understanding, understand
from quantum_voice.services.flows.schema import FlowDefinition, Variable
from quantum_voice.services.flows.semantic import IntentMatcher, local_matcher
from quantum_voice.services.leads import extraction
from quantum_voice.services.leads.emails import EmailCandidate, extract_email

_STRONG_NAME_CUE = re.compile(r"\b(?:my name|name is|name's|call me|actually i'm|actually it's)\b", re.I)


@dataclass
class Heard:
    understanding: Understanding
    fields: dict[str, str] = field(default_factory=dict)
    email: EmailCandidate | None = None

    @property
    def text(self) -> str:
        return self.understanding.text


def hear(flow: FlowDefinition, utterance: str, *, expecting: str | None = None,
         known: dict[str, str] | None = None, semantic: IntentMatcher | None | str = "local") -> Heard:
    """Understand ``utterance``; ``expecting`` is the variable just asked for, so a bare answer ("Ana") counts.
    ``semantic``: the embedding stage behind the rules; "local" is the local model's, ``None`` the rules only."""
    understanding = understand(utterance, local_matcher() if semantic == "local" else semantic)
    if understanding.noise or understanding.injection:
        return Heard(understanding)  # nothing said by a prompt injection is ever captured
    heard = Heard(understanding)
    for variable in flow.variables:
        value = _extract(variable, utterance, expecting=expecting == variable.key, heard=heard)
        if value and not _weak_name_over_known(variable.key, utterance, expecting, known or {}):
            heard.fields[variable.key] = value[:500]
    return heard


def _extract(variable: Variable, text: str, *, expecting: bool, heard: Heard) -> str | None:
    key, kind = variable.key, variable.kind
    if kind == "standard":
        if key == "email":
            heard.email = extract_email(text)
            return heard.email.address if heard.email else None
        if key == "name":
            return extraction.extract_name(text, expecting=expecting)
        return {"phone": extraction.extract_phone, "interest": extraction.extract_interest,
                "timeline": extraction.extract_timeline, "budget": extraction.extract_budget}[key](text)
    if kind == "choice":
        return extraction.extract_choice(text, variable.choices)
    if kind == "pattern":
        return extraction.extract_pattern(text, variable.pattern or "")
    if kind == "date_time":
        return extraction.extract_date_time(text)
    return _free_text(text, heard.understanding) if expecting else None  # kind "text": the answer to its question


def _free_text(text: str, understanding: Understanding) -> str | None:
    if understanding.unsure or understanding.goodbye or understanding.handoff or len(text.split()) < 2:
        return None
    return " ".join(text.split())


def _weak_name_over_known(key: str, text: str, expecting: str | None, known: dict[str, str]) -> bool:
    """"I'm calling for my wife" must not rename a known caller; "my name is ..." or a direct answer may."""
    return key == "name" and bool(known.get("name")) and expecting != "name" and not _STRONG_NAME_CUE.search(text)
