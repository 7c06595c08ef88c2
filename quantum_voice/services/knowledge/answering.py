"""Grounded answers: the one or two retrieved sentences that best answer the question, as a caller hears them.

``AnswerProvider`` is the seam for other answerers (an LLM that rephrases strictly from the passages, Gemini
File Search): each takes the question and the retrieved passages and returns an ``Answer`` or ``None`` for
"not in the knowledge base". The extractive answerer needs no model beyond the embedder.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from quantum_voice.services.knowledge.embeddings import embed_query, get_embedder
from quantum_voice.services.knowledge.retrieval import Passage
from quantum_voice.services.knowledge.spoken import Unit, units_of
from quantum_voice.services.knowledge.wording import (answer_types, coverage, in_plain_words, question_terms, stem, stems_of,
                                                      types_in)

MAX_SPOKEN_WORDS = 45  # about 15 seconds of speech


@dataclass
class Citation:
    document_id: int | None
    document_name: str
    page: int | None = None
    section: str | None = None
    chunk_id: int | None = None
    qna_pair_id: int | None = None
    url: str | None = None  # a web page (web-search answers)


@dataclass
class Answer:
    text: str
    confidence: float
    citations: list[Citation] = field(default_factory=list)
    source: str = "extractive"  # extractive | qna | llm (rephrased) | web | the name of another provider
    # the next best thing to say when the caller hears this offered as the closest passage and says it is not it
    alternative: str | None = None


class AnswerProvider(Protocol):
    name: str

    def answer(self, question: str, passages: list[Passage]) -> Answer | None:
        """An answer drawn only from ``passages``, or ``None`` when they do not hold one."""
        ...


class SentenceVectors:
    """Sentence embeddings of recently used passages, so a popular passage is embedded once."""

    def __init__(self, size: int = 4096):
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size, self._lock = size, threading.Lock()

    def vectors(self, sentences: list[str]) -> np.ndarray:
        with self._lock:
            missing = [s for s in dict.fromkeys(sentences) if s not in self._items]
        fresh = get_embedder().embed(missing) if missing else []
        with self._lock:
            for sentence, vector in zip(missing, fresh):
                self._items[sentence] = vector
            while len(self._items) > self._size:
                self._items.popitem(last=False)
            return np.vstack([self._items[s] for s in sentences])

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


sentence_vectors = SentenceVectors()
_FILLER = re.compile(r"^(?:(?:so|um+|uh+|er+|okay|ok|well|and|also|oh|hi|hey|hello|right|alright|yeah|yes|great|thanks|"
                     r"thank you|quick question|one more thing|actually)\b[\s,.!?-]*)+", re.I)
# Words callers add that documents never hold ("you guys", "actually", "roughly"): not evidence either way.
_CALLER_WORDS = frozenset(stem(w) for w in """um uh okay ok guy guys actually really still kind sort thing things long
much many someone somebody anything something instead exactly roughly right now whole lot way happen best big good
great pretty proper properly just even anymore well too yet around gonna wanna like bit ballpark also mine another
maybe probably wondering""".split())
# Verbs that say little about the topic ("do you *do* X", "can you *take* Y"): the topic is X and Y.
_GENERIC_WORDS = frozenset(stem(w) for w in """do take get put come go make have need offer provide sell buy use help
work handle deal give send see look want like know tell ask let keep""".split())


@dataclass
class Candidate:
    """One sayable unit of a retrieved passage, scored against the question."""

    unit: Unit
    passage: Passage
    rank: int  # of the passage among the results, from 0
    similarity: float = 0.0  # the question and the unit (with its heading, or the FAQ question it answers)
    coverage: float = 0.0  # the question's terms (or synonyms) in the unit, its heading and FAQ question
    key_coverage: float = 0.0  # the same for the topic words only (not "do", "take", "get"...)
    type_match: float = 0.0  # 1: holds the kind of answer asked for (a price, a time...); -1: lacks it; 0: no kind
    score: float = 0.0

    @property
    def text(self) -> str:
        return self.unit.spoken


@dataclass(frozen=True)
class Evidence:
    """What the confidence model looks at, for the chosen candidate (``bench.conversations.fit`` refits it)."""

    similarity: float
    coverage: float
    type_match: float
    gap: float  # its score's lead over the next candidate
    absent: float  # share of the question's topic words found in none of the retrieved passages
    score: float
    key_coverage: float

    def vector(self) -> np.ndarray:
        return np.array([self.similarity, self.coverage, self.type_match, self.gap, self.absent, self.score,
                         self.key_coverage])


@dataclass
class Choice:
    text: str  # what the caller would hear
    said: list[Candidate]  # the units in it, in reading order
    best: Candidate
    evidence: Evidence
    alternative: str | None = None  # the best unit left unsaid, when it is plausible on its own


# Selection: meaning first, then shared words (with synonyms; the topic words again on their own), then the kind
# of answer asked for. Chosen on the conversation benchmark's development businesses: the fact is in the unit
# said for 115 of their 128 answerable questions (109 with the earlier 0.5 / 0.3 / 0 / 0.1).
SELECT_SIMILARITY, SELECT_COVERAGE, SELECT_KEY_COVERAGE, SELECT_TYPE = 0.4, 0.1, 0.1, 0.05
# a kind of answer that can stand for the one asked ("how much off if I pay up front?" → "a 5% discount")
_STANDS_FOR = {"money": {"percent"}, "percent": {"money"}}
# Confidence: a logistic model over ``Evidence``, fitted on the conversation benchmark's development businesses
# (``python -m bench.conversations.fit``; never the holdout one). The bias places p = 0.5 at the fitted operating
# point 0.89, the lowest at which the development set presents no out-of-scope question's passage as the answer,
# so a RAG Answer node's threshold of 0.5 means "sure". Between its ``tentative_threshold`` (0.05: fitted p 0.3)
# and 0.5 the closest passage is offered as such and the caller asked whether it answers the question.
CONFIDENCE_WEIGHTS = np.array([3.557, 0.0, 0.087, 12.88, -1.328, 0.0, 0.0])
CONFIDENCE_BIAS = -0.967 - 2.091  # fitted bias, less logit(operating point)
ALTERNATIVE_FLOOR = 0.05  # the RAG Answer node's default tentative_threshold: no less plausible than a first offer
SECOND_SENTENCE_MARGIN = 0.05  # a runner-up this close is said too ("one or two sentences")
PASSAGES_CONSIDERED = 8


class ExtractiveAnswerer:
    """Says the unit of the retrieved passages that best answers the question, in a sentence a caller can follow.

    Each passage becomes spoken units (``spoken.units_of``: no headings, list items after their lead-in); each
    unit is compared with the question by meaning (MiniLM, with its heading as context, or the FAQ question it
    answers), by shared words (stems and everyday synonyms, ``wording``) and by the kind of answer asked for.
    A close runner-up is said as a second sentence. The confidence is a fitted model of how likely the chosen
    unit holds the answer; below the node's threshold the caller hears the honest fallback instead.
    """

    name = "extractive"

    def __init__(self, passages_considered: int = PASSAGES_CONSIDERED, max_words: int = MAX_SPOKEN_WORDS):
        self.passages_considered, self.max_words = passages_considered, max_words

    def answer(self, question: str, passages: list[Passage]) -> Answer | None:
        choice = self.choose(question, passages)
        if choice is None:
            return None
        best = choice.best
        p = best.passage
        return Answer(choice.text, round(confidence_of(choice.evidence), 4),
                      [Citation(p.document_id, p.document_name, p.page, best.unit.heading or p.section, p.chunk_id)],
                      alternative=choice.alternative)

    def choose(self, question: str, passages: list[Passage]) -> "Choice | None":
        """What would be said and the evidence for it; ``None`` when there is nothing to say."""
        question = clean_question(in_plain_words(question))
        candidates = self._candidates(question, passages[: self.passages_considered])
        if not candidates:
            return None
        candidates.sort(key=lambda c: (-c.score, c.rank, c.unit.index))
        said, best = self._said(candidates), candidates[0]
        rest = [c for c in candidates if c not in said and c.text not in {s.text for s in said}]
        gap = best.score - rest[0].score if rest else 0.2  # the lead over the best candidate left unsaid
        topic = _topic_terms(question)
        seen = set().union(*(stems_of(f"{c.unit.heading} {c.unit.text}") for c in candidates))
        absent = sum(1 for options in topic if not options & seen) / len(topic) if topic else 0.0
        evidence = Evidence(best.similarity, best.coverage, best.type_match, gap, absent, best.score,
                            best.key_coverage)
        text = _trim_words(" ".join(c.text for c in said), self.max_words * 3 // 2)
        return Choice(text, said, best, evidence, _alternative(rest, absent, self.max_words))

    def _candidates(self, question: str, passages: list[Passage]) -> list[Candidate]:
        query = embed_query(question)
        terms, topic, wanted = question_terms(question), _topic_terms(question), answer_types(question)
        candidates: list[Candidate] = []
        for rank, passage in enumerate(passages):
            units = units_of(passage.text, passage.section)
            if not units:
                continue
            similarities = (_unit_vectors(passage, units) @ query).tolist()
            for unit in units:
                if unit.is_question or len(unit.text.split()) < 2:
                    continue
                candidate = Candidate(unit, passage, rank)
                asked = similarities[unit.asked_index] if unit.asked_index is not None else 0.0
                candidate.similarity = max(similarities[unit.index], asked)
                unit_stems = stems_of(f"{unit.heading} {unit.text} {unit.asked}")
                candidate.coverage = coverage(terms, unit_stems)
                candidate.key_coverage = coverage(topic, unit_stems) if topic else 0.5
                found = types_in(unit.text)
                candidate.type_match = _type_match(wanted, found)
                candidate.score = (SELECT_SIMILARITY * candidate.similarity + SELECT_COVERAGE * candidate.coverage
                                   + SELECT_KEY_COVERAGE * candidate.key_coverage + SELECT_TYPE * candidate.type_match)
                candidates.append(candidate)
        return candidates

    def _said(self, candidates: list[Candidate]) -> list[Candidate]:
        """The best unit, and the runner-up when it scored nearly as well and both fit in one breath, in the order
        a reader would meet them."""
        best = candidates[0]
        for other in candidates[1:3]:
            if other.text == best.text or best.score - other.score > SECOND_SENTENCE_MARGIN:
                continue
            if len(best.text.split()) + len(other.text.split()) <= self.max_words:
                return [best, other] if _reads_before(best, other) else [other, best]
            break
        return [best]


def _alternative(rest: list[Candidate], absent: float, max_words: int) -> str | None:
    """The best unit not said, offered when the caller says the closest passage did not answer: about a quarter
    of the questions missed on the conversation benchmark have their fact in it. ``None`` unless it is as plausible
    on its own as a closest passage must be (``ALTERNATIVE_FLOOR``)."""
    unsaid = list({c.text: c for c in rest}.values())
    if not unsaid:
        return None
    first = unsaid[0]
    gap = first.score - unsaid[1].score if len(unsaid) > 1 else 0.2
    evidence = Evidence(first.similarity, first.coverage, first.type_match, gap, absent, first.score,
                        first.key_coverage)
    if confidence_of(evidence) < ALTERNATIVE_FLOOR:
        return None
    return _trim_words(first.text, max_words)


def _type_match(wanted: set[str], found: set[str]) -> float:
    """1: the unit holds the kind of answer asked for; 0.5: a kind that can stand for it; -1: neither; 0: no kind."""
    if not wanted:
        return 0.0
    if wanted & found:
        return 1.0
    return 0.5 if any(_STANDS_FOR.get(kind, set()) & found for kind in wanted) else -1.0


def _unit_vectors(passage: Passage, units: list[Unit]) -> np.ndarray:
    """The units' vectors: stored with the chunk when it was processed, else embedded now (and kept a while)."""
    stored = passage.unit_vectors
    if stored is not None and len(stored) == len(units):
        return stored
    return sentence_vectors.vectors([unit.with_context for unit in units])


def _reads_before(a: Candidate, b: Candidate) -> bool:
    """Two units of one passage keep the document's order; otherwise the better one goes first."""
    return a.passage is not b.passage or a.unit.index < b.unit.index


def clean_question(question: str) -> str:
    """"So, um, okay and do you fit heat pumps?" → "do you fit heat pumps?" (what the embedder should compare)."""
    cleaned = _FILLER.sub("", " ".join(question.split())).strip()
    return cleaned or question


def _topic_terms(question: str) -> list[set[str]]:
    terms = [options for options in question_terms(question) if not options & _CALLER_WORDS]
    return [options for options in terms if not options & _GENERIC_WORDS]


def confidence_of(evidence: Evidence) -> float:
    """The fitted probability that the chosen unit answers the question."""
    z = float(CONFIDENCE_WEIGHTS @ evidence.vector() + CONFIDENCE_BIAS)
    return float(1.0 / (1.0 + np.exp(-z)))


def _trim_words(text: str, limit: int) -> str:
    parts = text.split()
    return text if len(parts) <= limit else " ".join(parts[:limit]).rstrip(",;:") + "…"
