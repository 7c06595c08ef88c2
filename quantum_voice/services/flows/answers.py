"""Answering from the knowledge base, shared by the RAG Answer node and questions asked mid-Lead-Gate."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from quantum_voice.services.flows.knowledge import KnowledgeResult

if TYPE_CHECKING:
    from quantum_voice.services.flows.step import Step

log = logging.getLogger("quantum_voice.flows")


def look_up(step: "Step", knowledge_base_id: int | None, question: str, threshold: float) -> KnowledgeResult | None:
    """The knowledge base's best answer, or ``None``. A failing knowledge service is a miss, never a dropped call."""
    knowledge = step.ctx.knowledge
    if knowledge is None or not knowledge_base_id or not question.strip():
        return None
    try:
        return knowledge.search(organization_id=step.ctx.organization_id, knowledge_base_id=knowledge_base_id,
                                question=question, threshold=threshold)
    except Exception:  # noqa: BLE001 - degrade to "I don't know" and keep the call going
        log.exception("knowledge search failed for knowledge base %s", knowledge_base_id)
        return None


def confident(result: KnowledgeResult | None, threshold: float) -> bool:
    return result is not None and bool(result.text.strip()) and result.confidence >= threshold


def say_answer(step: "Step", result: KnowledgeResult, question: str, knowledge_base_id: int, max_words: int) -> None:
    step.act("answer", trim_words(result.text, max_words), question=question, confidence=round(result.confidence, 4),
             citations=list(result.citations), knowledge_base_id=knowledge_base_id)


def tentative(result: KnowledgeResult | None, config) -> bool:
    """Not confident, but plausible enough to offer as the closest the documents come (``tentative_threshold``)."""
    floor = getattr(config, "tentative_threshold", 0.0) or 0.0
    return floor > 0 and result is not None and bool(result.text.strip()) and result.confidence >= floor


def say_tentative(step: "Step", result: KnowledgeResult, question: str, config) -> None:
    """The closest passage, said as such ("Here's the closest I have: ..."), never as the answer."""
    text = trim_words(result.text, config.max_answer_words)
    step.act("answer", f"{config.tentative_text} {text}".strip(), question=question, tentative=True,
             confidence=round(result.confidence, 4), citations=list(result.citations),
             knowledge_base_id=config.knowledge_base_id)


def say_alternative(step: "Step", text: str, question: str, config) -> None:
    """After "no" to the closest passage: the next closest, said as such ("Maybe this is closer: ...")."""
    step.act("answer", f"{config.alternative_text} {trim_words(text, config.max_answer_words)}".strip(),
             question=question, tentative=True, alternative=True, knowledge_base_id=config.knowledge_base_id)


DEFAULT_NOT_FOUND = "I don't have that information, but someone from the team can follow up with you by email."
DEFAULT_NOT_FOUND_NO_CONTACT = "I'm sorry, I don't have that information."
MAX_UNANSWERED_KEPT = 10
_VAGUE = re.compile(r"^(?:and |so |but )?(?:what about (?:it|that|this|them)|tell me more|more|and|how about (?:it|that)|"
                    r"what else|anything else|(?:the )?other (?:one|thing)|that one|this one|what|how|why|"
                    r"explain|details)\??$")


def is_vague(question: str) -> bool:
    """"What about that?", "tell me more": a question with nothing in it to look up (the Clarify node's job)."""
    from quantum_voice.services.knowledge.text import content_terms

    text = " ".join(question.lower().split()).strip(" .!?")
    return bool(_VAGUE.match(text)) or not content_terms(text)


_REQUEST = re.compile(  # the caller wants something done: asked for, not asked about
    r"\b(?:i'?d like|i would like|i want|i need|we'?d like|we need|can i (?:get|book|have|schedule|arrange|set up)|"
    r"could i (?:get|book|have|schedule|arrange)|please|(?:can|could|would) (?:someone|somebody|you|one of you|"
    r"your team) (?:come|pop|call|ring|send|email|book|schedule|arrange|give me|get back)|book me|sign me up|"
    r"call me back|get back to me)\b.*\b(?:come (?:out|over|by|round|around|and)|quote|estimate|visit|appointment|"
    r"book|booking|schedule|call|ring|email|send|back|test drive|consultation|tour|viewing|look at)", re.I)
_ASKING_ABOUT = re.compile(r"\b(?:how much|cost|costs|charge|price|fee|free|pay|will you still|do you still|"
                           r"how long|how soon|when|what if|what happens|what do i do|is it possible|"
                           r"do (?:i|we) (?:need|have) to|(?:should|must) (?:i|we)|is it necessary|or (?:can|do) (?:i|we) "
                           r"just)\b", re.I)
REQUEST_NOTED = "I've noted that, and someone from the team will get back to you by email to arrange it."
REQUEST_NO_CONTACT = "I can't arrange that myself, I'm afraid."


def is_request(text: str) -> bool:
    """"Could someone come out and give me a quote?", "can you call me back": the caller wants something done
    (not "do you charge to come out?", which asks about it)."""
    return bool(_REQUEST.search(text)) and not _ASKING_ABOUT.search(text)


def note_request(step: "Step", request: str) -> None:
    """A request the documents do not cover: noted on the call for the team (the lead's summary lists it), and
    the follow-up promised only to a caller who left an email with consent."""
    has_contact = step.state.consent is True and bool(step.state.variables.get("email"))
    if has_contact and request not in step.state.requests and len(step.state.requests) < MAX_UNANSWERED_KEPT:
        step.state.requests.append(request[:300])
    step.act("say", REQUEST_NOTED if has_contact else REQUEST_NO_CONTACT, request=request[:500])


def say_not_found(step: "Step", config, question: str) -> None:
    """The honest answer when the documents do not hold one: say so, offer the follow-up the campaign wrote (only
    when the caller left an email with consent), and keep the question on the call for the team."""
    has_contact = step.state.consent is True and bool(step.state.variables.get("email"))
    if has_contact:
        text = (config.fallback_text if config is not None else "") or DEFAULT_NOT_FOUND
    else:
        text = (config.fallback_without_contact if config is not None else "") or DEFAULT_NOT_FOUND_NO_CONTACT
    if question and question not in step.state.unanswered and len(step.state.unanswered) < MAX_UNANSWERED_KEPT:
        step.state.unanswered.append(question[:300])
    step.act("say", text, unanswered=question[:500])


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
