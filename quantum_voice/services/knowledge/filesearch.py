"""Optional Gemini File Search answers for questions the local knowledge base cannot answer.

Off by default: it needs ``GEMINI_API_KEY`` and ``KNOWLEDGE_GEMINI_STORE`` (the name of an existing File Search
store, e.g. ``fileSearchStores/abc123``). It asks ``models.generate_content`` of the official ``google-genai`` SDK
with the ``file_search`` tool over that store. With both settings, ``filesearch_sync`` also keeps the store in step
with the documents here: every ready document is copied in (its document and knowledge base ids as custom
metadata), its copy is replaced when it is reprocessed and removed when it is deleted or fails. Given a knowledge
base, the search is narrowed to that knowledge base's copies (``metadata_filter``): one store serves every
organisation.

The answer cites the documents in Gemini's grounding metadata. Gemini gives no retrieval score, so confidence is
fixed and conservative: ``GROUNDED_CONFIDENCE`` when at least one grounding chunk came from the store, and no
answer at all otherwise (an ungrounded reply may be the model's own knowledge). Failures, timeouts, an empty
reply and an open circuit are logged and read as "no answer"; they never reach the caller.
"""

from __future__ import annotations

import logging

from quantum_voice.core.config import get_settings
from quantum_voice.core.resilience import CircuitBreaker, call_with_fallback
from quantum_voice.services.knowledge.answering import MAX_SPOKEN_WORDS, Answer, Citation, _trim_words
from quantum_voice.core.ai_clients import breaker_for, gemini_client, reset_clients  # noqa: F401
from quantum_voice.services.knowledge.rephrasing import NOT_FOUND
from quantum_voice.services.knowledge.retrieval import Passage

log = logging.getLogger(__name__)

GROUNDED_CONFIDENCE = 0.6
KNOWLEDGE_BASE_KEY = "knowledge_base_id"  # custom metadata of every copy filesearch_sync uploads
DOCUMENT_KEY = "document_id"
MAX_CITATIONS = 3
SYSTEM_INSTRUCTION = (
    "You answer a caller's question for a business, on the phone. Use only what the file search finds: no "
    "outside knowledge, no guesses. Reply with one or two short, natural spoken sentences (at most 40 words), no "
    f"lists, no markdown. If the files do not answer the question, reply exactly {NOT_FOUND}."
)


class GeminiFileSearch:
    """An ``AnswerProvider`` over one Gemini File Search store (it searches the store, not ``passages``)."""

    name = "gemini"

    def __init__(self, client, model: str, store: str, breaker: CircuitBreaker,
                 knowledge_base_id: int | None = None):
        self.client, self.model, self.store, self.breaker = client, model, store, breaker
        self.knowledge_base_id = knowledge_base_id

    def answer(self, question: str, passages: list[Passage] | None = None) -> Answer | None:
        return call_with_fallback(self.breaker, lambda: self._ask(question), fallback=lambda: None)

    def _ask(self, question: str) -> Answer | None:
        from google.genai import types  # only imported when the provider is switched on

        response = self.client.models.generate_content(
            model=self.model, contents=question,
            config=types.GenerateContentConfig(
                system_instruction=SYSTEM_INSTRUCTION, temperature=0, max_output_tokens=200,
                tools=[types.Tool(file_search=types.FileSearch(
                    file_search_store_names=[self.store], metadata_filter=self._metadata_filter()))]))
        candidate = (response.candidates or [None])[0]
        text = " ".join((response.text or "").split()) if candidate is not None else ""
        if not text:
            raise ValueError("Gemini returned no text")
        if NOT_FOUND in text:
            log.info("Gemini File Search found no answer for %r", question[:120])
            return None
        citations = _citations(candidate.grounding_metadata)
        if not citations:
            log.info("Gemini's reply to %r was not grounded in the store; ignored", question[:120])
            return None
        return Answer(_trim_words(text, MAX_SPOKEN_WORDS), GROUNDED_CONFIDENCE, citations, source="gemini")

    def _metadata_filter(self) -> str | None:
        if self.knowledge_base_id is None:
            return None
        return f"{KNOWLEDGE_BASE_KEY} = {int(self.knowledge_base_id)}"


def _citations(metadata) -> list[Citation]:
    """One citation per document the store's grounding chunks came from, in the order Gemini gave them."""
    citations: dict[tuple, Citation] = {}
    for chunk in (metadata.grounding_chunks if metadata is not None else None) or []:
        context = chunk.retrieved_context
        if context is None:
            continue
        name = context.title or context.document_name or context.uri
        if not name:
            continue
        key = (name, context.page_number)
        if key not in citations:
            url = context.uri if context.uri and context.uri.startswith(("http://", "https://")) else None
            citations[key] = Citation(None, name, context.page_number, url=url)
    return list(citations.values())[:MAX_CITATIONS]


def store_settings() -> tuple[str, str, str] | None:
    """``(api key, store, base url)`` when File Search is switched on (both settings set), else ``None``."""
    settings = get_settings()
    key, store = settings.gemini_api_key.get_secret_value(), settings.knowledge_gemini_store.strip()
    if not key or not store:
        return None
    return key, store, settings.gemini_base_url.strip()


def configured_file_search(knowledge_base_id: int | None = None) -> GeminiFileSearch | None:
    """The Gemini File Search provider the settings ask for, or ``None`` (off: the default).

    With ``knowledge_base_id``, only that knowledge base's copies in the store are searched."""
    switched_on = store_settings()
    if switched_on is None:
        return None
    key, store, base_url = switched_on
    settings = get_settings()
    client = gemini_client(key, base_url, settings.knowledge_gemini_timeout_seconds)
    return GeminiFileSearch(client, settings.knowledge_gemini_model.strip() or "gemini-2.5-flash", store,
                            breaker_for(f"filesearch:{base_url or 'gemini'}"), knowledge_base_id)
