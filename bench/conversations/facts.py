"""Does a spoken reply contain the expected facts? Case-insensitive, with numbers written one way.

The document may say "$1,200" and the agent "$1200" (or "1,200 dollars"): both are the same fact, so digit
group separators are dropped before comparing. Whitespace and curly quotes are normalised the same way.
"""

from __future__ import annotations

import re

_THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u00a0](?=\d{3}\b)")


def normalise(text: str) -> str:
    text = (text or "").lower().replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    text = _THOUSANDS.sub("", text)
    return " ".join(text.split())


def has_fact(reply: str, alternatives: tuple[str, ...]) -> bool:
    said = normalise(reply)
    return any(normalise(alt) in said for alt in alternatives)


def missing_facts(reply: str, facts: tuple[tuple[str, ...], ...]) -> list[tuple[str, ...]]:
    """The fact groups with no alternative in ``reply`` (empty: every fact is there)."""
    return [group for group in facts if not has_fact(reply, group)]
