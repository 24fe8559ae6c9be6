"""Pool gauges for faster-observability's Prometheus registry, read when it is scraped.

The observability plugin calls `faster_observability_metrics(registry, host)` once per app; the
db plugin then registers a collector on that registry which reads this app's pool at each
scrape (so the order of the two plugins' lifespans does not matter).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faster_db.database import Database

__all__ = ["DBMetrics"]

GAUGES = {
    "checked_out": "Connections of the primary's pool in use",
    "idle": "Idle connections kept in the primary's pool",
    "overflow": "Connections opened beyond pool_size",
    "capacity": "pool_size + max_overflow",
}


class DBMetrics:
    """Per-app: the database to report on, while the app runs."""

    def __init__(self) -> None:
        self.database: Database | None = None

    def bind(self, registry: Any) -> None:
        """Register the pool collector on `registry` (prometheus_client imported lazily)."""
        registry.register(_PoolCollector(self))


class _PoolCollector:
    def __init__(self, metrics: DBMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Any]:
        return list(self._families({}))

    def collect(self) -> Iterator[Any]:
        database = self.metrics.database
        yield from self._families(database.pool_status() if database is not None else {})

    @staticmethod
    def _families(status: dict[str, int]) -> Iterator[Any]:
        # Lazy: prometheus_client is the observability plugin's dependency, not ours.
        from prometheus_client.core import GaugeMetricFamily  # noqa: PLC0415

        for name, help_text in GAUGES.items():
            family = GaugeMetricFamily(f"faster_db_pool_{name}", help_text)
            if name in status:
                family.add_metric([], float(status[name]))
            yield family
