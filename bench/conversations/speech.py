"""How a persona says things (emails in its style, names, consent) and how the caller reads the agent's words.

Kept apart from the caller's decisions (caller.py) so both the text run and the voice run say exactly the same.
Reading the agent uses keyword rules on its lowercased text, never exact prompt strings: the prompts are being
reworded while this harness measures them.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

# ---------------------------------------------------------------- what the caller says


def variant(persona_id: str, options: tuple[str, ...] | list[str], salt: str = "") -> str:
    """A stable choice among phrasings, by persona id (so runs repeat, and personas differ)."""
    return options[zlib.crc32(f"{persona_id}:{salt}".encode()) % len(options)]


_SYMBOL_WORDS = {".": "dot", "@": "at", "_": "underscore", "-": "dash", "+": "plus"}


def say_email(address: str, style: str) -> str:
    """``plain``: as written; ``dotted``: "maya dot chen at example dot com"; ``spelled``: the part before the @
    letter by letter ("m a y a dot c h e n at example dot com")."""
    if style == "plain":
        return address
    local, _, domain = address.partition("@")
    parts = re.split(r"([._+\-])", local)
    words = []
    for part in parts:
        if part in _SYMBOL_WORDS:
            words.append(_SYMBOL_WORDS[part])
        elif part:
            words.append(" ".join(part) if style == "spelled" else part)
    return f"{' '.join(words)} at {' dot '.join(domain.split('.'))}"


def wrong_email(address: str) -> str:
    """The address with one letter of its first part changed (the persona's slip before correcting it)."""
    local, _, domain = address.partition("@")
    for index in range(len(local) - 1, -1, -1):
        if local[index].isalpha():
            letter = "x" if local[index] != "x" else "k"
            return f"{local[:index]}{letter}{local[index + 1:]}@{domain}"
    return f"x{address}"


def wrong_name(name: str) -> str:
    """Another first name (the persona's slip before correcting it)."""
    first, _, rest = name.partition(" ")
    other = "Jordan" if first.lower() != "jordan" else "Morgan"
    return f"{other} {rest}".strip()


def say_phone(digits: str) -> str:
    digits = re.sub(r"\D", "", digits)
    if len(digits) <= 4:
        return " ".join(digits)
    return f"{' '.join(digits[:3])}, {' '.join(digits[3:])}"


CONSENT_ALONE = {"yes": "Yes, I agree.", "no": "No, I don't agree to that.",
                 "hedged_yes": "I suppose that's fine.", "negated_yes": "I don't mind, go ahead."}
CONFIRM_AND_CONSENT = {"yes": "Yes, that's right, and I agree.",
                       "no": "Yes, that's right, but I don't agree to that.",
                       "hedged_yes": "Yes, that's right. I suppose that's fine.",
                       "negated_yes": "Yes, that's right. I don't mind, go ahead."}

# ---------------------------------------------------------------- what the agent asked

_QUESTION_SENTENCE = re.compile(r"[^.?!]*\?")
_READ_BACK = re.compile(r"\b(?:is that (?:right|correct)|did i get that(?: right)?|have i got that right|"
                        r"is this correct|can you confirm)\b")
_CONSENT = re.compile(r"\bdo you agree\b|\bdo you consent\b|\bis that (?:ok|okay|alright|all right) with you\b|"
                      r"\bare you (?:ok|okay|happy) with (?:that|this)\b|\bagree to (?:that|this|these|the)\b.*\?")
_NAME = re.compile(r"\b(?:your|full|first) name\b|\bwho am i (?:speaking|talking) (?:to|with)\b|"
                   r"\bwho(?:'s| is) calling\b|\bwhat should i call you\b|\bwhat(?:'s| is) the name\b")
_EMAIL = re.compile(r"\be-?mail\b")
_PHONE = re.compile(r"\bphone\b|\b(?:contact|telephone|mobile|cell|callback|call-back) number\b|\bnumber\b")
_CLARIFY = re.compile(r"\btell me (?:a (?:little|bit) )?more\b|\bcould you (?:say|explain|rephrase)\b|"
                      r"\bis it about\b|\bwhat do you mean\b|\bcan you be more specific\b")
_CHECK = re.compile(r"\b(?:does|did) (?:that|this) (?:answer|help)\b|\bis (?:that|this) what you (?:were|are) "
                    r"(?:looking for|asking|after)\b|\bdoes that cover it\b")
_MORE = re.compile(r"\banything else\b|\bwhat (?:else )?would you like to know\b|\bhow (?:else )?can i help\b|"
                   r"\bwhat can i (?:do|help)\b|\b(?:any|other|more) questions?\b|\bwhat else\b|"
                   r"\bsomething else\b|\bwhat would you like to ask\b|\bhelp you with\b")


@dataclass(frozen=True)
class AgentAsk:
    """What the agent's utterance wants from the caller. ``kind``: name | email | confirm_email | phone | consent |
    check (did that answer your question?) | more | other (another question) | statement (no question). ``consent`` also: the consent question came with
    a read-back, so one answer settles both."""

    kind: str
    consent: bool = False
    read_back: str | None = None  # the address the agent read back, written out


def classify(agent_text: str) -> AgentAsk:
    text = " ".join((agent_text or "").lower().replace("’", "'").split())
    questions = " ".join(_QUESTION_SENTENCE.findall(text))
    consent = bool(_CONSENT.search(text))
    if _READ_BACK.search(text) and (" at " in text or "@" in text):
        return AgentAsk("confirm_email", consent=consent, read_back=read_back_address(text))
    if consent:
        return AgentAsk("consent")
    for kind, rule in (("name", _NAME), ("email", _EMAIL), ("phone", _PHONE), ("check", _CHECK), ("other", _CLARIFY),
                       ("more", _MORE)):
        if rule.search(questions):
            return AgentAsk(kind)
    return AgentAsk("other" if questions else "statement")


_WRITTEN = re.compile(r"[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")
_SPOKEN_SYMBOLS = {"dot": ".", "period": ".", "point": ".", "at": "@", "underscore": "_", "dash": "-",
                   "hyphen": "-", "plus": "+"}


def read_back_address(text: str) -> str | None:
    """The address in the agent's read-back, written out: "I have m-a-y-a dot chen at example dot com. Is that
    right?" → ``maya.chen@example.com``. ``None`` when no address can be made out."""
    text = text.lower()
    before = _READ_BACK.split(text, maxsplit=1)[0]
    written = _WRITTEN.findall(before.rstrip(" .,"))
    if written:
        return written[-1].rstrip(".")
    lead_in = re.split(r"\b(?:i have|i've got|i got|i heard|so that's|that's|so it's|it's|got it,?)\b", before)
    spoken = lead_in[-1] if len(lead_in) > 1 else before.split(".")[-1] if "." in before else before
    spoken = re.sub(r"(?<=\b\w)[-,](?=\s?\w\b)", "", spoken)  # spelled letters: m-a-y-a, "m, a"
    tokens = [_SPOKEN_SYMBOLS.get(token, token) for token in re.findall(r"[a-z0-9@._+\-]+", spoken)]
    address = "".join(tokens).strip(".")
    return address if "@" in address and "." in address.split("@")[-1] else None
