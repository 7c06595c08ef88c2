"""``KnowledgeSearch`` backed by the knowledge service (``services/knowledge/questions.ask``).

The service logs every question (for "most asked" and "unanswered" analytics) with the call it came from and
the node's threshold. It runs inside a savepoint: a failing search is a miss for the engine and leaves the
call's own writes intact.

A caller is waiting, so the answer has ``KNOWLEDGE_ANSWER_TIMEOUT_SECONDS`` (2 s): the full search (hybrid
retrieval and the optional rephrasing, Gemini and web providers) runs in a worker thread with its own read-only
session, and when it is not back in time the Q&A pairs alone answer. The question is logged from the call's own
session either way (the worker must not write: the call's transaction holds the conversation row it would wait on).
"""

from __future__ import annotations

import logging
import threading

from sqlmodel import Session, select

from quantum_voice.core.config import get_settings
from quantum_voice.models.knowledge import KnowledgeBase, KnowledgeQuery

from quantum_voice.services.flows.knowledge import KnowledgeResult, KnowledgeSearch

log = logging.getLogger("quantum_voice.flows")


# Answers the knowledge base gives itself; anything else came from an outside provider (Gemini, the web).
_OWN_SOURCES = frozenset({"qna", "extractive", "llm"})


class ServiceKnowledgeSearch:
    def __init__(self, session: Session, *, conversation_id: int | None = None,
                 timeout_seconds: float | None = None):
        self.session, self.conversation_id = session, conversation_id
        self.timeout_seconds = (get_settings().knowledge_answer_timeout_seconds if timeout_seconds is None
                                else timeout_seconds)

    def search(self, *, organization_id: int, knowledge_base_id: int, question: str,
               threshold: float) -> KnowledgeResult | None:
        from quantum_voice.services.knowledge.questions import ask

        if not self._belongs_to(organization_id, knowledge_base_id):
            return None  # never search (or log into) another organisation's knowledge base
        if self.timeout_seconds <= 0:
            with self.session.begin_nested():
                found = ask(self.session, organization_id=organization_id, knowledge_base_id=knowledge_base_id,
                            question=question, threshold=threshold, conversation_id=self.conversation_id)
            best = found.answer or found.candidate
        else:
            best = self._answer_in_time(organization_id, knowledge_base_id, question, threshold)
        if best is None:
            return None
        return KnowledgeResult(best.text, float(best.confidence), [_cite(c) for c in best.citations],
                               getattr(best, "alternative", None))

    def _answer_in_time(self, organization_id: int, knowledge_base_id: int, question: str, threshold: float):
        from quantum_voice.services.knowledge.questions import ask

        outcome: dict = {}

        def full_search() -> None:
            try:
                bind = self.session.get_bind()
                with Session(getattr(bind, "engine", bind), expire_on_commit=False) as session:  # reads only
                    outcome["found"] = ask(session, organization_id=organization_id,
                                           knowledge_base_id=knowledge_base_id, question=question,
                                           threshold=threshold, conversation_id=self.conversation_id, record=False)
            except Exception as exc:  # handed to the caller's thread, which decides
                outcome["error"] = exc

        worker = threading.Thread(target=full_search, name="knowledge-search", daemon=True)
        worker.start()
        worker.join(self.timeout_seconds)
        if "error" in outcome:
            raise outcome["error"]
        found = outcome.get("found")
        with self.session.begin_nested():
            if found is None:  # still searching: the Q&A pairs answer now, the search finishes on its own
                log.warning("knowledge search over %.1f s for knowledge base %s: answering from Q&A pairs only",
                            self.timeout_seconds, knowledge_base_id)
                return self._qna_answer(organization_id, knowledge_base_id, question, threshold)
            own = found.candidate if found.candidate is not None and found.candidate.source in _OWN_SOURCES else None
            # an outside answer replaced the knowledge base's candidate: its best passage stands in for it
            best_passage = min(max((p.confidence for p in found.results), default=0.0), threshold)
            self._record(organization_id, knowledge_base_id, found.question,
                         answered=found.answer is not None and found.answer.source in _OWN_SOURCES,
                         confidence=own.confidence if own is not None else best_passage)
            return found.answer or found.candidate

    def _qna_answer(self, organization_id: int, knowledge_base_id: int, question: str, threshold: float):
        from quantum_voice.services.knowledge.embeddings import embed_query
        from quantum_voice.services.knowledge.questions import MAX_QUESTION_CHARS, match_qna

        question = " ".join(question.split())[:MAX_QUESTION_CHARS]
        pair = match_qna(self.session, organization_id, knowledge_base_id, embed_query(question))
        self._record(organization_id, knowledge_base_id, question,
                     answered=pair is not None and pair.confidence >= threshold,
                     confidence=pair.confidence if pair is not None else 0.0)
        return pair

    def _record(self, organization_id: int, knowledge_base_id: int, question: str, *, answered: bool,
                confidence: float) -> None:
        # as ``ask`` logs it: "answered" is the knowledge base's own doing (an outside answer still shows the gap)
        self.session.add(KnowledgeQuery(organization_id=organization_id, knowledge_base_id=knowledge_base_id,
                                        conversation_id=self.conversation_id, query=question, answered=answered,
                                        confidence=confidence))
        self.session.flush()


    def _belongs_to(self, organization_id: int, knowledge_base_id: int) -> bool:
        stmt = select(KnowledgeBase.id).where(KnowledgeBase.id == knowledge_base_id,
                                              KnowledgeBase.organization_id == organization_id)
        return self.session.exec(stmt).first() is not None


def _cite(citation) -> str:
    page = f", page {citation.page}" if getattr(citation, "page", None) else ""
    return f"{citation.document_name}{page}"


def service_knowledge_search(session: Session, *, conversation_id: int | None = None) -> KnowledgeSearch | None:
    """The knowledge service's search, or ``None`` when that service is not installed (every question misses)."""
    try:
        import quantum_voice.services.knowledge.questions  # noqa: F401
    except ImportError:
        log.warning("the knowledge service is not available: RAG Answer nodes will not find answers")
        return None
    return ServiceKnowledgeSearch(session, conversation_id=conversation_id)
