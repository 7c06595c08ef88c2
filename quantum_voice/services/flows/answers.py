"""Answering from the knowledge base, shared by the RAG Answer node and questions asked mid-Lead-Gate."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from quantum_voice.services.flows.knowledge import KnowledgeResult

if TYPE_CHECKING:
    from quantum_voice.services.flows.turn import Turn

log = logging.getLogger("quantum_voice.flows")


def look_up(turn: "Turn", knowledge_base_id: int | None, question: str, threshold: float) -> KnowledgeResult | None:
    """The knowledge base's best answer, or ``None``. A failing knowledge service is a miss, never a dropped call."""
    knowledge = turn.ctx.knowledge
    if knowledge is None or not knowledge_base_id or not question.strip():
        return None
    try:
        return knowledge.search(organization_id=turn.ctx.organization_id, knowledge_base_id=knowledge_base_id,
                                question=question, threshold=threshold)
    except Exception:  # noqa: BLE001 - degrade to "I don't know" and keep the call going
        log.exception("knowledge search failed for knowledge base %s", knowledge_base_id)
        return None


def confident(result: KnowledgeResult | None, threshold: float) -> bool:
    return result is not None and bool(result.text.strip()) and result.confidence >= threshold


def say_answer(turn: "Turn", result: KnowledgeResult, question: str, knowledge_base_id: int, max_words: int) -> None:
    turn.act("answer", trim_words(result.text, max_words), question=question, confidence=round(result.confidence, 4),
             citations=list(result.citations), knowledge_base_id=knowledge_base_id)


def trim_words(text: str, limit: int) -> str:
    """At most ``limit`` words, cut at a sentence end when one is near: answers are spoken, so keep them short."""
    words = text.split()
    if len(words) <= limit:
        return " ".join(words)
    cut = " ".join(words[:limit])
    sentence_end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if sentence_end >= len(cut) // 2:
        return cut[: sentence_end + 1]
    return re.sub(r"[,;:]$", "", cut) + "…"
