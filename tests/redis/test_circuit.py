"""The circuit breaker: open after consecutive failures, one probe after the reset timeout
(faster_redis/circuit.py)."""

from __future__ import annotations

import time

from faster_redis.circuit import CircuitBreaker, CircuitState


def state(breaker: CircuitBreaker) -> CircuitState:
    return breaker.state


def test_opens_after_threshold_consecutive_failures() -> None:
    breaker = CircuitBreaker(threshold=3, reset_timeout=60)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert state(breaker) is CircuitState.CLOSED
    breaker.record_failure()
    assert state(breaker) is CircuitState.OPEN
    assert not breaker.allow()


def test_one_probe_after_reset_timeout_then_closes_on_success() -> None:
    breaker = CircuitBreaker(threshold=1, reset_timeout=0.05)
    breaker.record_failure()
    assert not breaker.allow()
    time.sleep(0.06)
    assert breaker.allow()
    assert state(breaker) is CircuitState.HALF_OPEN
    assert not breaker.allow()
    breaker.record_success()
    assert state(breaker) is CircuitState.CLOSED
    assert breaker.allow()


def test_failed_probe_opens_again() -> None:
    breaker = CircuitBreaker(threshold=5, reset_timeout=0.05)
    for _ in range(5):
        breaker.record_failure()
    time.sleep(0.06)
    assert breaker.allow()
    breaker.record_failure()
    assert state(breaker) is CircuitState.OPEN
    assert not breaker.allow()


def test_cancelled_probe_lets_the_next_caller_probe() -> None:
    breaker = CircuitBreaker(threshold=1, reset_timeout=0.05)
    breaker.record_failure()
    time.sleep(0.06)
    assert breaker.allow()
    breaker.release_probe()
    assert breaker.allow()
