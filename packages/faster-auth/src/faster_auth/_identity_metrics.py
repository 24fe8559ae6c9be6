"""Key-cache metrics for faster-observability's Prometheus registry, read at each scrape.

The observability plugin calls `faster_observability_metrics(registry, host)` once per app;
the auth plugin then registers a collector reading this app's `JWKSCache` (set while the app
runs), so the order of the plugins' lifespans does not matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faster_auth.jwks import JWKSCache

__all__ = ["IdentityMetrics"]


class IdentityMetrics:
    """Per app: the external issuer's key cache to report on, while the app runs."""

    def __init__(self) -> None:
        self.keys: JWKSCache | None = None

    def bind(self, registry: Any) -> None:
        """Register the collector on `registry` (prometheus_client imported lazily)."""
        registry.register(_KeysCollector(self))


class _KeysCollector:
    def __init__(self, metrics: IdentityMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Any]:
        return list(self._families(None))

    def collect(self) -> Iterator[Any]:
        yield from self._families(self.metrics.keys)

    @staticmethod
    def _families(keys: JWKSCache | None) -> Iterator[Any]:
        # Lazy: prometheus_client is the observability plugin's dependency, not ours.
        from prometheus_client.core import (  # noqa: PLC0415
            CounterMetricFamily,
            GaugeMetricFamily,
        )

        fetches = CounterMetricFamily(
            "faster_auth_jwks_fetches", "Fetches of the identity provider's key set"
        )
        failures = CounterMetricFamily(
            "faster_auth_jwks_fetch_failures", "Failed fetches of the identity provider's key set"
        )
        available = GaugeMetricFamily(
            "faster_auth_identity_provider_available",
            "1 while a key of the identity provider is known (else tokens get 503s)",
        )
        stale = GaugeMetricFamily(
            "faster_auth_jwks_stale", "1 while the known keys are past their TTL (issuer failing)"
        )
        if keys is not None:
            fetches.add_metric([], float(keys.fetches))
            failures.add_metric([], float(keys.failures))
            available.add_metric([], 1.0 if keys.warm else 0.0)
            stale.add_metric([], 1.0 if keys.stale else 0.0)
        yield from (fetches, failures, available, stale)
