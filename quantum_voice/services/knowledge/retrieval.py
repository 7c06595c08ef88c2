"""Hybrid retrieval: full-text (BM25 / tsvector) and dense (MiniLM) rankings fused by reciprocal rank.

Each passage gets a confidence in [0, 1] from how close its meaning is to the question (cosine similarity)
and how many of the question's words it contains; callers compare it with a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, select

from quantum_voice.models.knowledge import Chunk, Document
from quantum_voice.services.knowledge.embeddings import embed_query, unit_vectors_from_bytes
from quantum_voice.services.knowledge.fulltext import fulltext_search
from quantum_voice.services.knowledge.text import content_terms, stem, words
from quantum_voice.services.knowledge.wording import in_plain_words
from quantum_voice.services.knowledge.vectors import matrix_cache

CANDIDATES = 50  # from each ranking, before fusion
RRF_K = 60
# Cosine similarities of MiniLM between a question and a passage: unrelated text sits around 0–0.25, a passage
# that answers the question usually above 0.45.
SIMILARITY_FLOOR, SIMILARITY_FULL = 0.22, 0.62


@dataclass
class Passage:
    chunk_id: int
    document_id: int
    document_name: str
    text: str
    page: int | None
    section: str | None
    similarity: float
    term_coverage: float
    confidence: float
    fused_score: float
    unit_vectors: np.ndarray | None = None  # one per spoken unit (spoken.py), when stored with the chunk


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Ids ordered by Σ 1/(k + rank) over the rankings they appear in."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def term_coverage(question: str, passage: str) -> float:
    """Share of the question's meaningful words (lightly stemmed) that the passage contains."""
    terms = {stem(t) for t in content_terms(question)}
    if not terms:
        return 0.0
    present = {stem(w) for w in words(passage)}
    return len(terms & present) / len(terms)


def passage_confidence(similarity: float, coverage: float) -> float:
    dense = (similarity - SIMILARITY_FLOOR) / (SIMILARITY_FULL - SIMILARITY_FLOOR)
    return float(np.clip(0.8 * np.clip(dense, 0, 1) + 0.2 * coverage * (similarity > SIMILARITY_FLOOR), 0, 1))


def _top_rows(scores: np.ndarray, count: int) -> np.ndarray:
    if len(scores) <= count:
        return np.argsort(-scores)
    top = np.argpartition(-scores, count)[:count]
    return top[np.argsort(-scores[top])]


def retrieve(session: Session, *, organization_id: int, knowledge_base_id: int, question: str, top_k: int = 5,
             query_vector: np.ndarray | None = None) -> list[Passage]:
    """The ``top_k`` passages of the knowledge base that best match ``question`` (its idioms in plain words)."""
    plain = in_plain_words(question)
    if query_vector is None or plain != question:
        query_vector = embed_query(plain)
    question = plain
    matrix = matrix_cache.chunks(session, organization_id, knowledge_base_id)
    similarities = matrix.similarities(query_vector)
    dense = matrix.ids[_top_rows(similarities, CANDIDATES)].tolist()
    lexical = fulltext_search(session, organization_id=organization_id, knowledge_base_id=knowledge_base_id,
                              question=question, limit=CANDIDATES)
    fused = reciprocal_rank_fusion([dense, lexical])[:top_k]
    if not fused:
        return []
    rows = {chunk.id: (chunk, name) for chunk, name in session.exec(
        select(Chunk, Document.name).join(Document, Document.id == Chunk.document_id)
        .where(Chunk.organization_id == organization_id, Chunk.id.in_([i for i, _ in fused])))}
    passages = []
    for chunk_id, fused_score in fused:
        if chunk_id not in rows:
            continue
        chunk, name = rows[chunk_id]
        row = matrix.row_of(chunk_id)
        similarity = float(similarities[row]) if row is not None else 0.0
        coverage = term_coverage(question, f"{chunk.section or ''} {chunk.text}")
        passages.append(Passage(chunk.id, chunk.document_id, name, chunk.text, chunk.page, chunk.section,
                                similarity, coverage, passage_confidence(similarity, coverage), fused_score,
                                unit_vectors_from_bytes(chunk.unit_vectors)))
    return passages
