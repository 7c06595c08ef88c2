"""Optional LLM rephrasing of a grounded answer, strictly from the retrieved passages.

Any OpenAI-compatible chat-completions endpoint works (the official ``openai`` SDK with ``base_url``). It is off
unless ``KNOWLEDGE_REPHRASE_MODEL`` is set together with ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL``. The extractive
answer is the named fallback: on a timeout, an error, an empty reply or an open circuit it is returned as it was.
Citations and confidence always come from the extractive step; the model only changes the wording, or says the
passages do not hold the answer.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

from quantum_voice.core.config import get_settings
from quantum_voice.core.ai_clients import breaker_for, openai_client, reset_clients  # noqa: F401
from quantum_voice.core.resilience import CircuitBreaker, call_with_fallback
from quantum_voice.services.knowledge.answering import MAX_SPOKEN_WORDS, Answer, _trim_words
from quantum_voice.services.knowledge.retrieval import Passage

log = logging.getLogger(__name__)

NOT_FOUND = "NOT_FOUND"
PASSAGES_SENT = 3
SYSTEM_PROMPT = (
    "You answer a caller's question for a business, on the phone. Use only the numbered passages: no outside "
    "knowledge, no guesses. Reply with one or two short, natural spoken sentences (at most 40 words), no lists, "
    "no markdown, no passage numbers. A draft answer taken from the passages is given; keep its facts exactly "
    f"(numbers, names, prices). If the passages do not answer the question, reply exactly {NOT_FOUND}."
)


class Rephraser(Protocol):
    name: str

    def rephrase(self, question: str, passages: list[Passage], answer: Answer) -> Answer | None:
        """``answer`` in better words, ``answer`` itself on failure, or ``None`` when the passages don't answer."""
        ...


def build_messages(question: str, passages: list[Passage], draft: str) -> list[dict[str, str]]:
    numbered = "\n\n".join(f"[{i}] {p.document_name}{f' — {p.section}' if p.section else ''}\n{p.text}"
                           for i, p in enumerate(passages, start=1))
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Passages:\n{numbered}\n\nQuestion: {question}\n\nDraft answer: {draft}"}]


def passages_for(answer: Answer, passages: list[Passage], count: int = PASSAGES_SENT) -> list[Passage]:
    """The best-ranked passages, always including the ones the answer cites."""
    cited = {c.chunk_id for c in answer.citations if c.chunk_id is not None}
    chosen = passages[:count]
    return chosen + [p for p in passages[count:] if p.chunk_id in cited]


class OpenAIRephraser:
    """Rephrases through ``client.chat.completions.create`` (the official SDK), behind a circuit breaker."""

    def __init__(self, client, model: str, breaker: CircuitBreaker, *, max_tokens: int = 160):
        self.client, self.model, self.breaker, self.max_tokens = client, model, breaker, max_tokens
        self.name = f"llm:{model}"

    def rephrase(self, question: str, passages: list[Passage], answer: Answer) -> Answer | None:
        if answer.source != "extractive" or not passages:
            return answer  # a Q&A pair is the business's own wording; keep it
        return call_with_fallback(self.breaker, lambda: self._rephrased(question, passages, answer),
                                  fallback=lambda: answer)

    def _rephrased(self, question: str, passages: list[Passage], answer: Answer) -> Answer | None:
        response = self.client.chat.completions.create(
            model=self.model, messages=build_messages(question, passages_for(answer, passages), answer.text),
            temperature=0, max_tokens=self.max_tokens)
        text = " ".join((response.choices[0].message.content or "").split()) if response.choices else ""
        if not text:
            raise ValueError("the model returned no text")
        if NOT_FOUND in text:
            log.info("the rephrasing model found no answer in the passages for %r", question[:120])
            return None
        return replace(answer, text=_trim_words(text, MAX_SPOKEN_WORDS), source="llm")


def configured_rephraser() -> Rephraser | None:
    """The rephraser the settings ask for, or ``None`` (off: the default)."""
    settings = get_settings()
    key, base_url = settings.openai_api_key.get_secret_value(), settings.openai_base_url.strip()
    model = settings.knowledge_rephrase_model.strip()
    if not model or not (key or base_url):
        return None
    client = openai_client(key, base_url, settings.knowledge_rephrase_timeout_seconds)
    return OpenAIRephraser(client, model, breaker_for(f"rephrase:{base_url or 'openai'}"))
