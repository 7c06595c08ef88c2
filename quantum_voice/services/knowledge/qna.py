"""Question-and-answer pairs written by the business: matched before any document passage."""

from __future__ import annotations

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import ValidationFailed
from quantum_voice.models.knowledge import KnowledgeBase, QnAPair
from quantum_voice.services.knowledge.embeddings import get_embedder, to_bytes
from quantum_voice.services.knowledge.vectors import matrix_cache
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

SOURCES = ("manual", "unanswered_question")


def _clean(question: str, answer: str) -> tuple[str, str]:
    question, answer = " ".join((question or "").split()), (answer or "").strip()
    if not question or len(question) > 1000:
        raise ValidationFailed("Write the question (1 to 1,000 characters).", field="question")
    if not answer or len(answer) > 4000:
        raise ValidationFailed("Write the answer the agent should say (1 to 4,000 characters).", field="answer")
    return question, answer


def _embedding(question: str) -> bytes:
    return to_bytes(get_embedder().embed([question])[0])


def list_pairs(repo: OrgRepository, knowledge_base_id: int) -> list[QnAPair]:
    repo.scope.require(Permission.VIEW)
    kb = repo.get(KnowledgeBase, knowledge_base_id)
    return repo.list(QnAPair, QnAPair.knowledge_base_id == kb.id, order_by=QnAPair.id, limit=5000)


def get_pair(repo: OrgRepository, pair_id: int) -> QnAPair:
    repo.scope.require(Permission.VIEW)
    return repo.get(QnAPair, pair_id)


def create_pair(repo: OrgRepository, knowledge_base_id: int, question: str, answer: str, *,
                source: str = "manual", enabled: bool = True) -> QnAPair:
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    kb = repo.get(KnowledgeBase, knowledge_base_id)
    question, answer = _clean(question, answer)
    pair = repo.add(QnAPair(organization_id=repo.scope.organization_id, knowledge_base_id=kb.id, question=question,
                            answer=answer, enabled=enabled, source=source if source in SOURCES else "manual",
                            embedding=_embedding(question)))
    matrix_cache.invalidate(kb.id)
    return pair


def update_pair(repo: OrgRepository, pair_id: int, *, question: str | None = None, answer: str | None = None,
                enabled: bool | None = None) -> QnAPair:
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    pair = repo.get(QnAPair, pair_id)
    new_question, new_answer = _clean(pair.question if question is None else question,
                                      pair.answer if answer is None else answer)
    if new_question != pair.question:
        pair.embedding = _embedding(new_question)
    pair.question, pair.answer = new_question, new_answer
    if enabled is not None:
        pair.enabled = enabled
    pair.updated_at = utcnow()
    repo.session.add(pair)
    repo.session.flush()
    matrix_cache.invalidate(pair.knowledge_base_id)
    return pair


def delete_pair(repo: OrgRepository, pair_id: int) -> None:
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    pair = repo.get(QnAPair, pair_id)
    repo.delete(pair)
    matrix_cache.invalidate(pair.knowledge_base_id)
