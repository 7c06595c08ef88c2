"""``KnowledgeSearch`` backed by the knowledge service (``services/knowledge/questions.ask``).

The service logs every question (for "most asked" and "unanswered" analytics) with the call it came from and
the node's threshold. It runs inside a savepoint: a failing search is a miss for the engine and leaves the
call's own writes intact.
"""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from quantum_voice.models.knowledge import KnowledgeBase

from quantum_voice.services.flows.knowledge import KnowledgeResult, KnowledgeSearch

log = logging.getLogger("quantum_voice.flows")


class ServiceKnowledgeSearch:
    def __init__(self, session: Session, *, conversation_id: int | None = None):
        self.session, self.conversation_id = session, conversation_id

    def search(self, *, organization_id: int, knowledge_base_id: int, question: str,
               threshold: float) -> KnowledgeResult | None:
        from quantum_voice.services.knowledge.questions import ask

        if not self._belongs_to(organization_id, knowledge_base_id):
            return None  # never search (or log into) another organisation's knowledge base
        with self.session.begin_nested():
            found = ask(self.session, organization_id=organization_id, knowledge_base_id=knowledge_base_id,
                        question=question, threshold=threshold, conversation_id=self.conversation_id)
        best = found.answer or found.candidate
        if best is None:
            return None
        return KnowledgeResult(best.text, float(best.confidence), [_cite(c) for c in best.citations])


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
