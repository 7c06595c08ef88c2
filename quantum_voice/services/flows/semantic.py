"""The second stage of intent detection: example phrases and the local embedding model, behind the rules.

When the rules in ``intents`` find no intent in a turn (a plain statement, "unsure", or a question that might be
a hand-off request), the turn is compared by cosine similarity with a few example phrases per intent. The nearest
example decides, but only when it is close (``THRESHOLD``) and clearly closer than the nearest *non*-intent
example (``MARGIN``): the "other" examples ("are you a real person?", "thanks for the information") keep look-alike
sentences from being misread. The rules always win; this stage only fills in what they missed.

The similarity comes from an injected ``embed`` function (texts → L2-normalised vectors), so the engine stays
pure: ``local_matcher()`` uses all-MiniLM-L6-v2 from ``services/knowledge/embeddings`` (offline, deterministic);
tests may pass their own, or ``None`` for rules only. If the model cannot load, the matcher logs once and the
engine goes on with the rules alone. The example vectors are embedded once per matcher; a turn costs one
forward pass of a short sentence (a few milliseconds on a CPU).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

Embed = Callable[[list[str]], np.ndarray]  # texts -> (len(texts), dim) float32, rows of length 1

# Calibrated for all-MiniLM-L6-v2 (tests/unit/flows/test_semantic_intents.py): paraphrases the rules miss score
# 0.78-0.87 against their nearest example; no utterance of the 113-row table that reaches this stage scores above
# 0.62, and the closest unrelated sentences tried ("tell your staff thanks", "I spoke with a human yesterday")
# 0.68-0.70. So 0.72, plus a 0.05 lead over every other intent and the "other" examples: missing a paraphrase
# costs a re-ask, a false hand-off or goodbye costs the call.
THRESHOLD = 0.72
MARGIN = 0.05
OTHER = "other"

EXAMPLES: dict[str, tuple[str, ...]] = {
    "handoff": (
        "I want to speak to a real person",
        "can I talk to a human",
        "is there a human I can speak with",
        "is there someone I could speak with",
        "is there anybody there I can chat with",
        "I would prefer to speak to someone who works for you",
        "I'd prefer to speak with someone from your team",
        "put me through to a person",
        "let me speak to a member of staff",
        "can I have a human being please",
        "I want to speak to your manager",
        "I'd like to be transferred to a representative",
        "get a real person on the line",
        "stop, I want a human",
        "is there a real person available",
        "can I chat with an actual person",
        "I need a human",
    ),
    "goodbye": (
        "goodbye",
        "that's all from me for now, thank you",
        "that's all I needed, cheers",
        "thanks, that's everything for now",
        "I'll let you go now",
        "I've got what I need, bye",
        "okay, talk soon, take care",
        "cheers, have a good one",
        "I think we're done here, thank you",
        "nothing more for today, thanks bye",
        "that covers it, thank you",
        "I'm finished, thanks for your help",
        "I won't keep you any longer",
    ),
    "yes": (
        "yes",
        "yes, please",
        "that sounds good to me",
        "I'd like that",
        "count me in",
        "I'd say so",
        "that is correct",
        "sounds lovely, let's do it",
        "for sure",
        "I'm happy with that",
    ),
    "no": (
        "no",
        "no, thank you",
        "not at all",
        "I'd prefer not to",
        "not interested, thanks",
        "that's not correct",
        "I don't think so",
        "not for me, thanks",
    ),
    "question": (
        "I'd like some information about the prices",
        "I need details about parking",
        "I'm looking for information on your opening hours",
        "I was hoping to find out about availability",
        "I have a question about the fees",
        "please explain how the process works",
    ),
    OTHER: (  # near-misses that are not an intent; they only stop a false match
        "are you a real person",
        "I don't want to talk to a person",
        "thank your team for me",
        "I talked to one of your people last week",
        "who is your manager",
        "my friend works for your team",
        "are you a robot",
        "am I talking to a machine",
        "is this an automated call",
        "how many people work there",
        "my name is John Smith",
        "my email is john at example dot com",
        "my phone number is 555 0134",
        "I'm calling about the house on Main Street",
        "we're thinking of moving next spring",
        "my budget is around four hundred thousand",
        "hello, good morning",
        "thanks for the information",
        "I have two dogs and a cat",
        "I'm not sure",
        "let me think about it",
        "the weather is nice today",
        "I'm driving right now",
    ),
}


class IntentMatcher(Protocol):
    """What the engine needs from the second stage; ``ExampleMatcher`` is the real one, tests may fake it."""

    def match(self, text: str, allowed: Iterable[str]) -> "Match | None": ...


@dataclass(frozen=True)
class Match:
    intent: str
    score: float  # cosine similarity with the nearest example of ``intent``
    example: str


class ExampleMatcher:
    """Nearest example phrase by cosine similarity, with a threshold and a margin over the "other" examples."""

    def __init__(self, embed: Embed, *, examples: dict[str, tuple[str, ...]] | None = None,
                 threshold: float = THRESHOLD, margin: float = MARGIN, cache_size: int = 2048):
        self._embed = embed
        self._examples = EXAMPLES if examples is None else examples
        self.threshold, self.margin = threshold, margin
        self._labels: list[str] = []
        self._phrases: list[str] = []
        self._matrix: np.ndarray | None = None
        self._broken = False
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    @property
    def available(self) -> bool:
        return self._ready()

    def match(self, text: str, allowed: Iterable[str]) -> Match | None:
        """The intent among ``allowed`` that ``text`` means, or ``None`` when no example is close enough
        (or the model is unavailable)."""
        allowed = set(allowed)
        key = " ".join(text.lower().split())
        if not allowed or not key or not self._ready():
            return None
        try:
            vector = self._vector(key)
        except Exception:  # noqa: BLE001 - a failing model must never break a call
            self._give_up("embedding an utterance failed")
            return None
        assert self._matrix is not None
        scores = np.round(self._matrix @ vector, 4)  # rounded: the same words always give the same decision
        best: dict[str, tuple[float, int]] = {}
        for index, (label, score) in enumerate(zip(self._labels, scores.tolist())):
            if label not in best or score > best[label][0]:
                best[label] = (score, index)
        candidates = [(score, label, index) for label, (score, index) in best.items() if label in allowed]
        if not candidates:
            return None
        score, label, index = max(candidates, key=lambda c: (c[0], c[1]))
        rivals = [s for name, (s, _) in best.items() if name != label]
        if score < self.threshold or (rivals and score - max(rivals) < self.margin):
            return None
        return Match(label, score, self._phrases[index])

    def _vector(self, key: str) -> np.ndarray:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        vector = np.asarray(self._embed([key])[0], dtype=np.float32)
        with self._lock:
            self._cache[key] = vector
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector

    def _ready(self) -> bool:
        if self._matrix is not None:
            return True
        if self._broken:
            return False
        with self._lock:
            if self._matrix is None and not self._broken:
                labels = [label for label, phrases in self._examples.items() for _ in phrases]
                phrases = [" ".join(p.lower().split()) for ps in self._examples.values() for p in ps]
                try:
                    matrix = np.asarray(self._embed(phrases), dtype=np.float32)
                except Exception:  # noqa: BLE001
                    self._broken = True
                    log.warning("Intent detection: the embedding model is unavailable; using the rules only.",
                                exc_info=True)
                    return False
                self._labels, self._phrases, self._matrix = labels, phrases, matrix
        return self._matrix is not None

    def _give_up(self, why: str) -> None:
        with self._lock:
            if not self._broken:
                log.warning("Intent detection: %s; using the rules only from now on.", why, exc_info=True)
            self._broken, self._matrix = True, None


def _local_model_embed(texts: list[str]) -> np.ndarray:
    """all-MiniLM-L6-v2, the process-wide copy when the knowledge service has it loaded. The threshold is
    calibrated for this model, so a test double set with ``embeddings.set_embedder`` is not used: the matcher
    then loads its own copy of MiniLM. A caller's single utterance goes through the knowledge service's query
    cache when that holds the same model: the knowledge search embeds the same question a moment later, and one
    forward pass (~15-35 ms on two cores) is enough for both."""
    model = _minilm()
    if len(texts) == 1:
        from quantum_voice.services.knowledge import embeddings

        if embeddings.get_embedder() is model:
            return embeddings.embed_query(texts[0])[None, :]
    return model.embed(texts)


_model = None
_model_lock = threading.Lock()


def _minilm():
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                from quantum_voice.services.knowledge import embeddings

                current = embeddings.get_embedder()
                _model = current if isinstance(current, embeddings.MiniLMEmbedder) else embeddings.MiniLMEmbedder()
    return _model


_local: ExampleMatcher | None = None


def local_matcher() -> ExampleMatcher:
    """The process-wide matcher over the local model; it loads on first use and falls back to nothing."""
    global _local
    if _local is None:
        _local = ExampleMatcher(_local_model_embed)
    return _local


def warm_up() -> bool:
    """Load the model and embed the examples now (at process start), not in the middle of a caller's first turn.
    Returns whether the embedding stage is available."""
    return local_matcher().available
