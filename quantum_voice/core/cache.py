"""A small key-value cache with counters: Redis when REDIS_URL is set, in-process otherwise.

Used for rate limits and short-lived values. Both implementations behave the same, and the tests run
the same cases against each.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Protocol

from quantum_voice.core.config import get_settings


class Cache(Protocol):
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, ttl_seconds: int | None = None) -> None: ...
    def delete(self, key: str) -> None: ...
    def incr(self, key: str, ttl_seconds: int) -> tuple[int, int]:
        """Add one to a counter; the TTL starts with the first hit. Returns (count, seconds left)."""
        ...
    def counter(self, key: str) -> tuple[int, int]:
        """A counter's value and seconds left, without adding to it: (0, 0) when absent."""
        ...
    def decr(self, key: str) -> int:
        """Take one off a live counter, keeping its window (never below zero; an absent counter stays absent).
        Returns the new count."""
        ...
    def ping(self) -> bool: ...


class InMemoryCache:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self._data: dict[str, tuple[str, float | None]] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic

    def _live(self, key: str) -> tuple[str, float | None] | None:
        item = self._data.get(key)
        if item is not None and item[1] is not None and item[1] <= self._monotonic():
            del self._data[key]
            return None
        return item

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._live(key)
            return item[0] if item else None

    def set(self, key: str, value: str, ttl_seconds: int | None = None) -> None:
        with self._lock:
            expires = self._monotonic() + ttl_seconds if ttl_seconds else None
            self._data[key] = (value, expires)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def incr(self, key: str, ttl_seconds: int) -> tuple[int, int]:
        with self._lock:
            item = self._live(key)
            now = self._monotonic()
            if item is None:
                self._data[key] = ("1", now + ttl_seconds)
                return 1, ttl_seconds
            count = int(item[0]) + 1
            self._data[key] = (str(count), item[1])
            left = int(round(item[1] - now)) if item[1] is not None else ttl_seconds
            return count, max(left, 1)

    def counter(self, key: str) -> tuple[int, int]:
        with self._lock:
            item = self._live(key)
            if item is None:
                return 0, 0
            left = int(round(item[1] - self._monotonic())) if item[1] is not None else 0
            return int(item[0]), max(left, 1)

    def decr(self, key: str) -> int:
        with self._lock:
            item = self._live(key)
            if item is None:
                return 0
            count = max(int(item[0]) - 1, 0)
            self._data[key] = (str(count), item[1])
            return count

    def ping(self) -> bool:
        return True


class RedisCache:
    def __init__(self, url: str, prefix: str = "qv:"):
        import redis

        self._redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    def get(self, key: str) -> str | None:
        return self._redis.get(self._prefix + key)

    def set(self, key: str, value: str, ttl_seconds: int | None = None) -> None:
        self._redis.set(self._prefix + key, value, ex=ttl_seconds)

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def incr(self, key: str, ttl_seconds: int) -> tuple[int, int]:
        full = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.incr(full)
        pipe.expire(full, ttl_seconds, nx=True)
        pipe.ttl(full)
        count, _, left = pipe.execute()
        return int(count), max(int(left), 1)

    def counter(self, key: str) -> tuple[int, int]:
        full = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.get(full)
        pipe.ttl(full)
        value, left = pipe.execute()
        if value is None:
            return 0, 0
        return int(value), max(int(left), 1)

    # DECR keeps the key's TTL; the script leaves an absent (expired) counter absent and never goes below zero
    _DECR = ("local v = redis.call('GET', KEYS[1]) "
             "if v and tonumber(v) > 0 then return redis.call('DECR', KEYS[1]) end return tonumber(v or 0)")

    def decr(self, key: str) -> int:
        return int(self._redis.eval(self._DECR, 1, self._prefix + key))

    def ping(self) -> bool:
        return bool(self._redis.ping())


_cache: Cache | None = None


def get_cache() -> Cache:
    global _cache
    if _cache is None:
        url = get_settings().redis_url
        _cache = RedisCache(url) if url else InMemoryCache()
    return _cache


def set_cache(cache: Cache | None) -> None:
    global _cache
    _cache = cache
