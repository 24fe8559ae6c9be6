"""A circuit breaker: stop paying the timeout on every call once Redis is known down.

closed -> (`threshold` consecutive failures) -> open -> (`reset_timeout` later, one probe call)
-> half-open -> closed on success, open again on failure. While open, calls fail at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

__all__ = ["CircuitBreaker", "CircuitState"]


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Counts consecutive failures; single-threaded (one event loop), so no lock is needed."""

    def __init__(self, threshold: int, reset_timeout: float) -> None:
        self.threshold = threshold
        self.reset_timeout = reset_timeout
        self._state = CircuitState.CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.opened_count = 0
        self.listeners: list[Callable[[CircuitState], None]] = []
        """Called with the new state on every change (metrics use it)."""

    @property
    def state(self) -> CircuitState:
        return self._state

    @state.setter
    def state(self, new: CircuitState) -> None:
        if new is not self._state:
            self._state = new
            for listener in self.listeners:
                listener(new)

    def allow(self) -> bool:
        """Whether a call may go to Redis now; in half-open, only the one probe may."""
        if self.state is CircuitState.CLOSED:
            return True
        if self.state is CircuitState.OPEN and self.retry_in() <= 0:
            self.state = CircuitState.HALF_OPEN
            return True
        return False

    def retry_in(self) -> float:
        """Seconds until the next probe is allowed (0 when closed)."""
        if self.state is CircuitState.CLOSED:
            return 0.0
        return max(0.0, self.opened_at + self.reset_timeout - time.monotonic())

    def record_success(self) -> None:
        self.failures = 0
        self.state = CircuitState.CLOSED

    def record_failure(self) -> None:
        self.failures += 1
        if self.state is CircuitState.HALF_OPEN or self.failures >= self.threshold:
            if self.state is not CircuitState.OPEN:
                self.opened_count += 1
            self.state = CircuitState.OPEN
            self.opened_at = time.monotonic()

    def release_probe(self) -> None:
        """A probe ended without a verdict (cancelled): let the next caller probe."""
        if self.state is CircuitState.HALF_OPEN:
            self.state = CircuitState.OPEN
            self.opened_at = time.monotonic() - self.reset_timeout
