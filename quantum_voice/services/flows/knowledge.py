"""The RAG Answer node's one collaborator: something that answers a question from a knowledge base.

The engine calls ``KnowledgeSearch.search`` and decides by ``confidence`` against the node's threshold, so an
implementation returns its best answer even when unsure (or ``None`` when it found nothing at all). The
knowledge service's adapter is ``knowledge_adapter.ServiceKnowledgeSearch``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class KnowledgeResult:
    text: str
    confidence: float  # 0..1
    citations: list[str] = field(default_factory=list)  # document names / Q&A, for the transcript and the UI
    alternative: str | None = None  # the next best passage, offered when the caller says this one is not it


class KnowledgeSearch(Protocol):
    def search(self, *, organization_id: int, knowledge_base_id: int, question: str,
               threshold: float) -> KnowledgeResult | None:
        """The best answer in the knowledge base (``threshold`` is the node's, for logging), or ``None``."""
        ...
