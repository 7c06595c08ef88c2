"""Asking a knowledge base: Q&A pairs first, then hybrid retrieval and an answerer; every question is logged
for the "most asked" and "unanswered" analytics.

``ask`` is what the flow engine's RAG Answer node calls (the caller is not a signed-in user: the campaign
decides the organisation); ``ask_as`` is the same for a signed-in person, scoped through ``OrgRepository``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlmodel import Session, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.knowledge import KnowledgeBase, KnowledgeQuery, QnAPair
from quantum_voice.services.knowledge.answering import Answer, AnswerProvider, Citation, ExtractiveAnswerer
from quantum_voice.services.knowledge.embeddings import embed_query
from quantum_voice.services.knowledge.filesearch import configured_file_search
from quantum_voice.services.knowledge.rephrasing import Rephraser, configured_rephraser
from quantum_voice.services.knowledge.retrieval import Passage, retrieve
from quantum_voice.services.knowledge.vectors import matrix_cache
from quantum_voice.services.knowledge.websearch import WebSearch, claim_web_search, configured_web_search
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

log = logging.getLogger(__name__)

QNA_MIN_SIMILARITY = 0.78  # a Q&A pair's question must mean nearly the same as the caller's
MAX_QUESTION_CHARS = 1000
MAX_TOP_K = 20


@dataclass
class KnowledgeAnswer:
    question: str
    results: list[Passage]
    answer: Answer | None  # None: not found (below the threshold)
    candidate: Answer | None  # the best answer found, even when below the threshold (for "test a question")
    threshold: float
    answered: bool = field(init=False)

    def __post_init__(self) -> None:
        self.answered = self.answer is not None


def qna_confidence(similarity: float) -> float:
    return float(np.clip(0.5 + (similarity - 0.75) * 2.0, 0, 1))


def match_qna(session: Session, organization_id: int, knowledge_base_id: int,
              query_vector: np.ndarray) -> Answer | None:
    matrix = matrix_cache.qna(session, organization_id, knowledge_base_id)
    if not len(matrix.ids):
        return None
    similarities = matrix.similarities(query_vector)
    best = int(np.argmax(similarities))
    if similarities[best] < QNA_MIN_SIMILARITY:
        return None
    pair = session.get(QnAPair, int(matrix.ids[best]))
    if pair is None or pair.organization_id != organization_id:
        return None
    return Answer(pair.answer, round(qna_confidence(float(similarities[best])), 4),
                  [Citation(None, "Q&A", qna_pair_id=pair.id, section=pair.question)], source="qna")


def ask(session: Session, *, organization_id: int, knowledge_base_id: int, question: str, top_k: int = 8,
        threshold: float | None = None, conversation_id: int | None = None, record: bool = True,
        answerer: AnswerProvider | None = None, rephraser: Rephraser | None = None,
        web_search: WebSearch | None = None, file_search: AnswerProvider | None = None) -> KnowledgeAnswer:
    """The knowledge base's answer to ``question``.

    Optional providers (off unless configured; ``rephraser``, ``file_search`` and ``web_search`` override the
    settings): an LLM rewords a grounded answer strictly from the passages; what the knowledge base cannot
    answer goes to Gemini File Search, then to a web search at most once per ``conversation_id``. Any of them
    failing leaves the answer as it would be without it.
    """
    question = " ".join((question or "").split())
    if not question:
        raise ValidationFailed("Type a question to search for.", field="query")
    question = question[:MAX_QUESTION_CHARS]
    threshold = get_settings().knowledge_answer_threshold if threshold is None else float(threshold)
    top_k = max(1, min(int(top_k), MAX_TOP_K))
    query_vector = embed_query(question)
    results = retrieve(session, organization_id=organization_id, knowledge_base_id=knowledge_base_id,
                       question=question, top_k=top_k, query_vector=query_vector)
    candidates = [match_qna(session, organization_id, knowledge_base_id, query_vector),
                  (answerer or ExtractiveAnswerer()).answer(question, results) if results else None]
    candidate = max((c for c in candidates if c is not None), key=lambda c: c.confidence, default=None)
    if candidates[0] is not None and candidates[0].confidence >= threshold:
        candidate = candidates[0]  # the business's own answer wins whenever it is confident enough
    answer = candidate if candidate is not None and candidate.confidence >= threshold else None
    if answer is not None and answer.source == "extractive":
        rephraser = rephraser or configured_rephraser()
        if rephraser is not None:
            answer = rephraser.rephrase(question, results, answer)
    if record:  # "answered" is the knowledge base's own doing: a Gemini or web answer still shows the gap
        session.add(KnowledgeQuery(organization_id=organization_id, knowledge_base_id=knowledge_base_id,
                                   conversation_id=conversation_id, query=question, answered=answer is not None,
                                   confidence=candidate.confidence if candidate else 0.0))
        session.flush()
    if answer is None:
        outside = _file_search_answer(question, results, threshold, file_search, knowledge_base_id) or \
            _web_answer(question, threshold, conversation_id, web_search)
        if outside is not None:
            answer = candidate = outside
    return KnowledgeAnswer(question, results, answer, candidate, threshold)


def _file_search_answer(question: str, results: list[Passage], threshold: float,
                        file_search: AnswerProvider | None, knowledge_base_id: int) -> Answer | None:
    # only this knowledge base's copies: one store holds every organisation's synced documents
    file_search = file_search or configured_file_search(knowledge_base_id)
    if file_search is None:
        return None
    found = file_search.answer(question, results)
    if found is None or found.confidence < threshold:
        log.info("Gemini File Search found no confident answer for %r", question[:120])
        return None
    return found


def _web_answer(question: str, threshold: float, conversation_id: int | None,
                web_search: WebSearch | None) -> Answer | None:
    web_search = web_search or configured_web_search()
    if web_search is None or not claim_web_search(conversation_id):
        return None
    found = web_search.answer(question)
    if found is None or found.confidence < threshold:
        log.info("web search found no confident answer for conversation %s", conversation_id)
        return None
    return found


def ask_as(repo: OrgRepository, knowledge_base_id: int, question: str, **options) -> KnowledgeAnswer:
    repo.scope.require(Permission.VIEW)
    kb = repo.get(KnowledgeBase, knowledge_base_id)
    return ask(repo.session, organization_id=repo.scope.organization_id, knowledge_base_id=kb.id,
               question=question, **options)


# ── Analytics ────────────────────────────────────────────────────────────────────────────────────────────────


@dataclass
class QuestionStat:
    question: str  # the most recent wording
    count: int
    answered_count: int
    average_confidence: float
    last_asked_at: datetime


def normalise_question(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def question_stats(repo: OrgRepository, knowledge_base_id: int, *, days: int = 30) -> list[QuestionStat]:
    """Questions asked in the last ``days`` days, grouped by wording (case and punctuation ignored)."""
    repo.scope.require(Permission.VIEW)
    kb = repo.get(KnowledgeBase, knowledge_base_id)
    since = utcnow() - timedelta(days=max(int(days), 1))
    rows = repo.session.exec(repo.select(KnowledgeQuery).where(
        KnowledgeQuery.knowledge_base_id == kb.id, KnowledgeQuery.created_at >= since)
        .order_by(KnowledgeQuery.created_at.desc()).limit(50_000)).all()
    groups: dict[str, QuestionStat] = {}
    for row in rows:
        key = normalise_question(row.query)
        stat = groups.get(key)
        if stat is None:
            stat = groups[key] = QuestionStat(row.query, 0, 0, 0.0, row.created_at)
        stat.average_confidence += (row.confidence - stat.average_confidence) / (stat.count + 1)
        stat.count += 1
        stat.answered_count += int(row.answered)
    return list(groups.values())


def most_asked(repo: OrgRepository, knowledge_base_id: int, *, days: int = 30, limit: int = 10) -> list[QuestionStat]:
    stats = question_stats(repo, knowledge_base_id, days=days)
    return sorted(stats, key=lambda s: (-s.count, -s.last_asked_at.timestamp()))[:limit]


def unanswered(repo: OrgRepository, knowledge_base_id: int, *, days: int = 30, limit: int = 20) -> list[QuestionStat]:
    """Questions that went without an answer, most frequent first, leaving out those a Q&A pair now covers."""
    covered = {normalise_question(q) for q in repo.session.exec(select(QnAPair.question).where(
        QnAPair.organization_id == repo.scope.organization_id, QnAPair.knowledge_base_id == knowledge_base_id))}
    stats = [s for s in question_stats(repo, knowledge_base_id, days=days)
             if s.answered_count < s.count and normalise_question(s.question) not in covered]
    return sorted(stats, key=lambda s: (-(s.count - s.answered_count), -s.last_asked_at.timestamp()))[:limit]
