"""Fixed-window rate limits on top of the shared cache (Redis or in-process)."""

from __future__ import annotations

from dataclasses import dataclass

from quantum_voice.core.cache import Cache


@dataclass(frozen=True)
class Limit:
    max_hits: int
    window_seconds: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int


class RateLimiter:
    def __init__(self, cache: Cache, namespace: str):
        self._cache = cache
        self._ns = namespace

    def hit(self, key: str, limit: Limit) -> Verdict:
        count, left = self._cache.incr(f"rl:{self._ns}:{key}", limit.window_seconds)
        return Verdict(allowed=count <= limit.max_hits, count=count, retry_after=left)

    def peek(self, key: str, limit: Limit) -> Verdict:
        """Would one more hit be allowed? Does not count as a hit."""
        count, left = self._cache.counter(f"rl:{self._ns}:{key}")
        return Verdict(allowed=count < limit.max_hits, count=count, retry_after=left)

    def undo(self, key: str) -> None:
        """Take back one hit (what it counted did not happen after all); the window stays as it was."""
        self._cache.decr(f"rl:{self._ns}:{key}")

    def reset(self, key: str) -> None:
        self._cache.delete(f"rl:{self._ns}:{key}")
