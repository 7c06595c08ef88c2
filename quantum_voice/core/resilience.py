"""Circuit breakers and named fallbacks for calls to outside services.

An outside service that keeps failing is not called again for a while: every call would wait for its timeout
and then fall back anyway. ``CircuitBreaker`` counts failures in a sliding window, opens after too many, lets
one trial call through after a cool-down (half-open) and closes again when that trial succeeds.
``call_with_fallback`` runs an operation behind a breaker and answers with the fallback on any failure, logged,
never raised. The clock is injectable so tests move time deterministically.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitOpen(Exception):
    """The breaker refused the call: the service failed too often recently."""


class CircuitBreaker:
    def __init__(self, name: str, *, failure_threshold: int = 5, window_seconds: float = 60.0,
                 reset_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.name = name
        self.failure_threshold = failure_threshold
        self.window_seconds, self.reset_seconds = window_seconds, reset_seconds
        self._clock = clock
        self._failures: deque[float] = deque()
        self._opened_at: float | None = None
        self._trial_running = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        return HALF_OPEN if self._clock() - self._opened_at >= self.reset_seconds else OPEN

    def allow(self) -> bool:
        """Whether a call may go out now. In half-open state only one trial call at a time is let through."""
        with self._lock:
            state = self._state()
            if state == CLOSED:
                return True
            if state == HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures.clear()
            self._opened_at, self._trial_running = None, False

    def record_failure(self) -> None:
        with self._lock:
            now = self._clock()
            if self._opened_at is not None:  # the half-open trial failed: wait another cool-down
                self._opened_at, self._trial_running = now, False
                return
            self._failures.append(now)
            while self._failures and now - self._failures[0] > self.window_seconds:
                self._failures.popleft()
            if len(self._failures) >= self.failure_threshold:
                self._opened_at = now
                self._failures.clear()
                log.warning("circuit %s opened after %d failures in %.0f s", self.name, self.failure_threshold,
                            self.window_seconds)

    def call(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` through the breaker; raises ``CircuitOpen`` when it is refused."""
        if not self.allow():
            raise CircuitOpen(self.name)
        try:
            result = operation()
        except BaseException:
            self.record_failure()
            raise
        self.record_success()
        return result


def call_with_fallback(breaker: CircuitBreaker, operation: Callable[[], T], fallback: Callable[[], T]) -> T:
    """``operation()`` behind ``breaker``; ``fallback()`` when the breaker is open or the operation fails."""
    try:
        return breaker.call(operation)
    except CircuitOpen:
        log.info("%s skipped: circuit open, using the fallback", breaker.name)
    except Exception as error:  # noqa: BLE001 - an outside service must never break the caller
        log.warning("%s failed (%s: %s), using the fallback", breaker.name, type(error).__name__, error)
    return fallback()


_registry: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def named_breaker(name: str, **options) -> CircuitBreaker:
    """The process-wide breaker of one outside service, created with ``options`` on first use."""
    with _registry_lock:
        if name not in _registry:
            _registry[name] = CircuitBreaker(name, **options)
        return _registry[name]


def reset_breakers() -> None:
    """Forget every named breaker (tests)."""
    with _registry_lock:
        _registry.clear()
