"""Text and numbers the database cannot hold, or should not: one definition for the API's edge checks
(``api/input_checks.py``) and for what people type in the app's forms (``guard_forms``).

* Whole numbers beyond 64 bits.
* Text with a lone UTF-16 surrogate (not storable as UTF-8), NUL and other control characters (tab and newlines
  aside), and the invisible direction controls U+202A-U+202E and U+2066-U+2069, which make text read differently
  from what it is ("Trojan Source").
"""

from __future__ import annotations

import re

from sqlalchemy import event
from sqlalchemy.orm import Session

from quantum_voice.core.errors import ValidationFailed

MAX_INT = 2**63 - 1
_BAD_TEXT = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# What people type in the app's forms (the UI writes through services, not the API): checked on every flush.
FORM_MODELS = frozenset({"Organization", "User", "Invitation", "Campaign", "QRCode", "KnowledgeBase", "QnAPair"})


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or ``None``."""
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        return "contains a broken character (an unpaired UTF-16 surrogate)"
    if code >= 0x202A:
        return "contains an invisible text-direction control (U+202A-U+202E or U+2066-U+2069)"
    return "contains a control character (such as NUL)"


def number_problem(value: int) -> str | None:
    return f"is out of range (at most {MAX_INT})" if abs(value) > MAX_INT else None


def _check_forms(session: Session, _context, _instances) -> None:
    for instance in (*session.new, *session.dirty):
        if type(instance).__name__ not in FORM_MODELS:
            continue
        for name, value in vars(instance).items():
            reason = text_problem(value) if isinstance(value, str) and not name.startswith("_") else None
            if reason:
                raise ValidationFailed(f"The {name.replace('_', ' ')} {reason}. Remove it and try again.",
                                       field=name)


def guard_forms() -> None:
    """Refuse unstorable text in the models people edit through the app's forms, whatever the way in."""
    if not event.contains(Session, "before_flush", _check_forms):
        event.listen(Session, "before_flush", _check_forms)
