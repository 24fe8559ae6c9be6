"""Counters the plugin keeps, exported by the observability plugin when it is enabled.

Counts always live here (cheap integer increments); `bind` mirrors them into Prometheus metrics
on the app's registry when faster-observability calls `faster_observability_metrics`.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faster_redis.circuit import CircuitBreaker

__all__ = ["RedisMetrics"]

CIRCUIT_VALUES = {"closed": 0.0, "half-open": 1.0, "open": 2.0}


class RedisMetrics:
    """Per-app counts: cache hits/misses/errors, rate-limit decisions, failures by feature."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.breaker: CircuitBreaker | None = None
        self._prom: dict[str, Any] = {}
        # `labels()` looks the child up under a lock on every call; a hit is counted per request
        self._children: dict[tuple[str, str], Any] = {}
        self._circuit: Any = None

    def watch(self, breaker: CircuitBreaker) -> None:
        """Follow `breaker`'s state in the circuit gauge."""
        self.breaker = breaker
        breaker.listeners.append(self.circuit_changed)
        self.circuit_changed(breaker.state)

    def circuit_changed(self, state: str) -> None:
        if self._circuit is not None:
            self._circuit.set(CIRCUIT_VALUES[state])

    def count(self, feature: str, outcome: str) -> None:
        key = (feature, outcome)
        self.counts[key] += 1
        child = self._children.get(key)
        if child is None:
            counter = self._prom.get(feature)
            if counter is None:
                return
            child = self._children[key] = counter.labels(outcome=outcome)
        child.inc()

    def bind(self, registry: Any) -> None:
        """Create this app's Prometheus metrics on `registry` (imported lazily)."""
        # Lazy: prometheus_client is the observability plugin's dependency, not ours.
        from prometheus_client import Counter as PromCounter  # noqa: PLC0415
        from prometheus_client import Gauge  # noqa: PLC0415

        self._children = {}
        self._prom = {
            "cache": PromCounter(
                "faster_redis_cache", "Cache lookups by outcome", ["outcome"], registry=registry
            ),
            "ratelimit": PromCounter(
                "faster_redis_ratelimit",
                "Rate-limit decisions by outcome",
                ["outcome"],
                registry=registry,
            ),
            "lock": PromCounter(
                "faster_redis_lock", "Lock operations by outcome", ["outcome"], registry=registry
            ),
        }
        self._circuit = Gauge(
            "faster_redis_circuit_state",
            "Circuit breaker towards Redis: 0 closed (up), 1 half-open, 2 open (down)",
            registry=registry,
            multiprocess_mode="max",
        )
        self.circuit_changed(self.breaker.state if self.breaker is not None else "closed")
