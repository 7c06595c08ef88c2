"""The outside AI services' SDK clients and circuit breakers, one place for every adapter that calls them.

Clients are cached per key, host and timeout (a caller's answer and a document upload need different timeouts) and
never retry on their own: a caller is waiting, and each adapter decides with its breaker and fallback. Each outside
service gets one breaker for the whole process: 5 failures in 60 s open it, half-open after 30 s.
"""

from __future__ import annotations

import threading

from quantum_voice.core.resilience import CircuitBreaker, named_breaker

_clients: dict[tuple, object] = {}
_lock = threading.Lock()


def breaker_for(name: str) -> CircuitBreaker:
    return named_breaker(name, failure_threshold=5, window_seconds=60, reset_seconds=30)


def reset_clients() -> None:
    """Forget cached SDK clients (tests, settings changes)."""
    with _lock:
        _clients.clear()


def openai_client(key: str, base_url: str, timeout_seconds: float):
    """``openai.OpenAI`` for OpenAI itself or any compatible endpoint (a local llama.cpp server included)."""
    config = ("openai", key, base_url, timeout_seconds)
    with _lock:
        client = _clients.get(config)
        if client is None:
            from openai import OpenAI  # only imported when a provider is switched on

            # A local OpenAI-compatible server may need no key; the SDK insists on one.
            client = _clients[config] = OpenAI(api_key=key or "unused", base_url=base_url or None,
                                               timeout=timeout_seconds, max_retries=0)
    return client


def gemini_client(key: str, base_url: str, timeout_seconds: float):
    """``google.genai.Client`` on the v1beta API (File Search is a v1beta feature). ``HttpOptions.timeout`` is in
    milliseconds; without ``retry_options`` the SDK makes a single attempt."""
    config = ("gemini", key, base_url, timeout_seconds)
    with _lock:
        client = _clients.get(config)
        if client is None:
            from google import genai
            from google.genai import types

            client = _clients[config] = genai.Client(
                api_key=key, vertexai=False,
                http_options=types.HttpOptions(base_url=base_url or None, api_version="v1beta",
                                               timeout=max(1, int(timeout_seconds * 1000))))
    return client
