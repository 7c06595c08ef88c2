"""Optional web-search fallback (Tavily) for questions the knowledge base cannot answer.

Off by default: it needs ``KNOWLEDGE_WEB_FALLBACK=true`` and ``TAVILY_API_KEY``. It is tried at most once per
conversation (a marker in the shared cache, so every worker process sees it) and only for calls that belong to a
conversation. The answer is marked ``source="web"`` and cites the page's URL. Failures, timeouts and an open
circuit are logged and read as "no web answer"; they never reach the caller.
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from quantum_voice.core.cache import get_cache
from quantum_voice.core.config import get_settings
from quantum_voice.core.resilience import CircuitBreaker, call_with_fallback
from quantum_voice.services.knowledge.answering import MAX_SPOKEN_WORDS, Answer, Citation, _trim_words
from quantum_voice.core.ai_clients import breaker_for
from quantum_voice.services.knowledge.text import split_sentences

log = logging.getLogger(__name__)

CONVERSATION_MARKER_TTL_SECONDS = 24 * 3600


class WebSearch(Protocol):
    name: str

    def answer(self, question: str) -> Answer | None:
        """An answer found on the web, citing its page, or ``None``."""
        ...


class TavilyWebSearch:
    """Tavily's ``/search`` through ``tavily-python``; ``base_url`` points it at another host (tests, a proxy)."""

    name = "web"

    def __init__(self, api_key: str, breaker: CircuitBreaker, *, base_url: str = "", timeout: float = 5.0,
                 max_results: int = 3):
        self.api_key, self.breaker, self.base_url = api_key, breaker, base_url.rstrip("/")
        self.timeout, self.max_results = timeout, max_results

    def answer(self, question: str) -> Answer | None:
        return call_with_fallback(self.breaker, lambda: self._search(question), fallback=lambda: None)

    def _search(self, question: str) -> Answer | None:
        from tavily import TavilyClient  # only imported when the provider is switched on

        with TavilyClient(api_key=self.api_key, api_base_url=self.base_url or None) as client:
            found = client.search(question, max_results=self.max_results, include_answer=True,
                                  search_depth="basic", timeout=self.timeout)
        results = [r for r in found.get("results") or [] if r.get("url")]
        if not results:
            return None
        top = max(results, key=lambda r: float(r.get("score") or 0.0))
        text = " ".join(str(found.get("answer") or "").split()) or _first_sentences(str(top.get("content") or ""))
        if not text:
            return None
        confidence = round(float(np.clip(float(top.get("score") or 0.0), 0, 1)), 4)
        citation = Citation(None, top["url"], section=top.get("title") or None, url=top["url"])
        return Answer(_trim_words(text, MAX_SPOKEN_WORDS), confidence, [citation], source="web")


def _first_sentences(content: str, count: int = 2) -> str:
    return " ".join(split_sentences(" ".join(content.split()))[:count])


def configured_web_search() -> WebSearch | None:
    """The web search the settings ask for, or ``None`` (off: the default)."""
    settings = get_settings()
    key = settings.tavily_api_key.get_secret_value()
    if not settings.knowledge_web_fallback or not key:
        return None
    return TavilyWebSearch(key, breaker_for("websearch:tavily"), base_url=settings.tavily_base_url.strip(),
                           timeout=settings.knowledge_web_timeout_seconds)


def claim_web_search(conversation_id: int | None) -> bool:
    """True the first time a conversation asks (and never without one): the web is searched once per call."""
    if conversation_id is None:
        return False
    count, _ = get_cache().incr(f"knowledge:web_fallback:{conversation_id}", CONVERSATION_MARKER_TTL_SECONDS)
    return count == 1
