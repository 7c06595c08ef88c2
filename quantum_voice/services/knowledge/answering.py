"""Grounded answers: the one or two retrieved sentences that best answer the question, with their sources.

``AnswerProvider`` is the seam for other answerers (an LLM that rephrases strictly from the passages, Gemini
File Search): each takes the question and the retrieved passages and returns an ``Answer`` or ``None`` for
"not in the knowledge base". The extractive answerer needs no model beyond the embedder.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from quantum_voice.services.knowledge.embeddings import embed_query, get_embedder
from quantum_voice.services.knowledge.retrieval import SIMILARITY_FLOOR, SIMILARITY_FULL, Passage, term_coverage
from quantum_voice.services.knowledge.text import split_sentences

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


class AnswerProvider(Protocol):
    name: str

    def answer(self, question: str, passages: list[Passage]) -> Answer | None:
        """An answer drawn only from ``passages``, or ``None`` when they do not hold one."""
        ...


@dataclass
class _Candidate:
    passage: Passage
    rank: int  # of the passage among the results, from 0
    index: int  # of the sentence in its passage
    sentences: list[str]
    similarity: float = 0.0
    score: float = 0.0

    @property
    def text(self) -> str:
        return self.sentences[self.index]


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
_RANK_WEIGHT = (1.0, 0.75, 0.55)


def _similarity_scale(similarity: float) -> float:
    return float(np.clip((similarity - SIMILARITY_FLOOR) / (SIMILARITY_FULL - SIMILARITY_FLOOR), 0, 1))


class ExtractiveAnswerer:
    """Picks the sentence closest in meaning to the question (favouring the best-ranked passages).

    In FAQ-style text the sentence after a matching question ("What deposit is required?") is the answer, so a
    question sentence lends its similarity to the sentence that follows it.
    """

    name = "extractive"

    def __init__(self, passages_considered: int = 3, max_words: int = MAX_SPOKEN_WORDS):
        self.passages_considered, self.max_words = passages_considered, max_words

    def answer(self, question: str, passages: list[Passage]) -> Answer | None:
        candidates, question_similarity = self._scored_candidates(question, passages[: self.passages_considered])
        if not candidates:
            return None
        chosen = max(candidates, key=lambda c: c.score)
        p = chosen.passage
        # A similar FAQ question above the sentence is good evidence, but weaker than the sentence itself: "Can I
        # rent my home?" resembles "Can I pay for my home with bitcoin?" without answering it.
        asked = question_similarity.get(id(chosen), 0.0)
        evidence = chosen.similarity + 0.5 * max(0.0, asked - chosen.similarity)
        confidence = answer_confidence(p.similarity, evidence, p.term_coverage)
        return Answer(self._spoken_text(chosen, candidates), round(confidence, 4),
                      [Citation(p.document_id, p.document_name, p.page, p.section, p.chunk_id)])

    def _scored_candidates(self, question: str, passages: list[Passage]):
        sentences_of = [split_sentences(p.text) for p in passages]
        everything = [s for sentences in sentences_of for s in sentences]
        if not everything:
            return [], {}
        similarity = dict(zip(everything, (sentence_vectors.vectors(everything) @ embed_query(question)).tolist()))
        candidates, lent = [], {}
        for rank, (passage, sentences) in enumerate(zip(passages, sentences_of)):
            for index, sentence in enumerate(sentences):
                if sentence.endswith("?") or len(sentence.split()) < 3:
                    continue  # questions and stray labels are no answer
                candidate = _Candidate(passage, rank, index, sentences, similarity[sentence])
                asked = similarity[sentences[index - 1]] if index and sentences[index - 1].endswith("?") else 0.0
                if asked:
                    lent[id(candidate)] = asked
                best_similarity = max(candidate.similarity, asked)
                candidate.score = (0.55 * best_similarity + 0.15 * term_coverage(question, sentence)
                                   + 0.30 * passage.confidence * _RANK_WEIGHT[min(rank, 2)])
                candidates.append(candidate)
        return candidates, lent

    def _spoken_text(self, chosen: _Candidate, candidates: list[_Candidate]) -> str:
        """The best sentence, after a bare "Yes."/"No." before it, and with the next sentence when both fit."""
        sentences, index = chosen.sentences, chosen.index
        text = chosen.text
        before = sentences[index - 1] if index else ""
        # "Yes." / "No, sorry." lead the answer; a heading ("Fees", no full stop) is a label, never read out
        if before and len(before.split()) <= 2 and before.endswith((".", "!")):
            text = f"{before} {text}"
        if index + 1 < len(sentences) and not sentences[index + 1].endswith("?"):
            following = sentences[index + 1]
            score_of_next = next((c.score for c in candidates
                                  if c.passage is chosen.passage and c.index == index + 1), 0.0)
            fits = len(text.split()) + len(following.split()) <= self.max_words * 3 // 4
            if fits and (len(text.split()) < 12 or score_of_next >= 0.8 * chosen.score):
                text = f"{text} {following}"
        return _trim_words(text, self.max_words * 3 // 2)


def answer_confidence(passage_similarity: float, sentence_similarity: float, coverage: float) -> float:
    """How sure we are that the answer answers: meaning of passage and sentence, plus shared words."""
    return float(np.clip(0.35 * _similarity_scale(passage_similarity) + 0.45 * _similarity_scale(sentence_similarity)
                         + 0.2 * coverage * (sentence_similarity > SIMILARITY_FLOOR), 0, 1))


def _trim_words(text: str, limit: int) -> str:
    parts = text.split()
    return text if len(parts) <= limit else " ".join(parts[:limit]).rstrip(",;:") + "…"
