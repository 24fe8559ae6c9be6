"""The hooks faster-observability publishes for other plugins (through `faster_add_hookspecs`).

Implement one with `@faster_core.hookimpl(optionalhook=True)` so that your plugin also works when
observability is not enabled, and import `prometheus_client` inside the implementation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faster_core import hookspec

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from faster_core import PluginHost

__all__ = ["faster_observability_metrics"]


@hookspec
def faster_observability_metrics(registry: CollectorRegistry, host: PluginHost) -> None:
    """Register a plugin's own metrics on the app's Prometheus registry.

    Called once per app, while the observability plugin starts (in its lifespan, after the HTTP
    metrics exist and before the app serves a request), in plugin order. Create `Counter`,
    `Gauge` and `Histogram` objects with `registry=registry` and keep them on an object of your
    plugin that lives as long as the app; never on the default global registry. Names must be
    unique within the app (prometheus-client raises on a duplicate); an implementation that
    raises stops start-up with an error naming its plugin.

    Args:
        registry: the app-scoped `prometheus_client.CollectorRegistry`; in multi-process mode
            the values still aggregate across workers (gauges should set `multiprocess_mode`).
        host: the app's plugin host (settings, enabled plugins).

    Returns:
        Nothing; the result is ignored.
    """
