"""The circuit breaker opens after repeated failures, half-opens after a cool-down and closes on success."""

import pytest

from quantum_voice.core.resilience import (CLOSED, HALF_OPEN, OPEN, CircuitBreaker, CircuitOpen, call_with_fallback,
                                           named_breaker, reset_breakers)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failing() -> None:
    raise RuntimeError("service down")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock) -> CircuitBreaker:
    return CircuitBreaker("test", failure_threshold=5, window_seconds=60, reset_seconds=30, clock=clock)


def test_the_breaker_opens_after_five_failures_within_a_minute(breaker, clock):
    for _ in range(4):
        breaker.record_failure()
        clock.now += 10
    assert breaker.state == CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state == OPEN and not breaker.allow()
    with pytest.raises(CircuitOpen):
        breaker.call(lambda: "never runs")


def test_failures_older_than_the_window_do_not_count(breaker, clock):
    for _ in range(4):
        breaker.record_failure()
    clock.now += 61
    breaker.record_failure()
    assert breaker.state == CLOSED


def test_a_success_forgets_earlier_failures(breaker):
    for _ in range(4):
        breaker.record_failure()
    breaker.call(lambda: "ok")
    breaker.record_failure()
    assert breaker.state == CLOSED


def test_after_the_cool_down_one_trial_call_goes_through_and_success_closes(breaker, clock):
    for _ in range(5):
        breaker.record_failure()
    clock.now += 29
    assert breaker.state == OPEN
    clock.now += 1
    assert breaker.state == HALF_OPEN
    assert breaker.allow() and not breaker.allow()  # only one trial at a time
    breaker.record_success()
    assert breaker.state == CLOSED and breaker.allow()


def test_a_failed_trial_opens_the_breaker_for_another_cool_down(breaker, clock):
    for _ in range(5):
        breaker.record_failure()
    clock.now += 30
    with pytest.raises(RuntimeError):
        breaker.call(failing)
    assert breaker.state == OPEN
    clock.now += 29
    assert breaker.state == OPEN
    clock.now += 1
    assert breaker.state == HALF_OPEN


def test_call_with_fallback_returns_the_fallback_on_error_and_when_open(breaker):
    calls = []

    def flaky():
        calls.append(1)
        raise TimeoutError("slow")

    for _ in range(5):
        assert call_with_fallback(breaker, flaky, fallback=lambda: "fallback") == "fallback"
    assert breaker.state == OPEN
    assert call_with_fallback(breaker, flaky, fallback=lambda: "fallback") == "fallback"
    assert len(calls) == 5  # the open breaker did not call the service
    assert call_with_fallback(CircuitBreaker("other"), lambda: "fine", fallback=lambda: "fallback") == "fine"


def test_named_breakers_are_shared_per_service():
    reset_breakers()
    assert named_breaker("svc", failure_threshold=2) is named_breaker("svc")
    assert named_breaker("svc").failure_threshold == 2 and named_breaker("svc2") is not named_breaker("svc")
    reset_breakers()
