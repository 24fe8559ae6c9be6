"""An app using faster-observability: structured logs, metrics of its own, Sentry-ready errors.

Run it from the repository root:

    FASTER_OBSERVABILITY_LOG_FORMAT=json hatch run demo:serve examples.observability_orders:app

    curl http://127.0.0.1:8000/orders/7 -H 'Authorization: Bearer eyJhbGciOi.secret'
    curl http://127.0.0.1:8000/metrics          # orders_viewed_total and the HTTP metrics
    FASTER_OBSERVABILITY_SENTRY_DSN=https://key@sentry.example/1 ...   # turns Sentry on

Every line carries the request id (also in the `X-Request-ID` response header); the receipt
line written by the background task carries the id of the request that scheduled it.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog
from fastapi import APIRouter, BackgroundTasks, Request

from faster_core import NotFoundError, PluginHost, PluginInfo, create_app, hookimpl
from faster_observability import ObservabilityPlugin, capture_exception, set_user_id

logger = logging.getLogger(__name__)


class Orders:
    """A plugin with routes and a metric registered through the observability hook."""

    def __init__(self) -> None:
        self.viewed: Any = None

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("orders", "1.0.0")

    @hookimpl(optionalhook=True)
    def faster_observability_metrics(self, registry: Any, host: PluginHost) -> None:
        from prometheus_client import Counter  # noqa: PLC0415  (only when observability runs)

        self.viewed = Counter("orders_viewed", "Orders shown.", registry=registry)

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter()

        @router.get("/orders/{order_id}")
        async def order(order_id: int, request: Request, tasks: BackgroundTasks) -> dict[str, int]:
            if order_id > 1000:
                raise NotFoundError(f"There is no order {order_id}.")
            set_user_id("user-42")  # in a real app: from the authentication dependency
            structlog.get_logger(__name__).info("order shown", order_id=order_id)
            if self.viewed is not None:
                self.viewed.inc()
            tasks.add_task(_send_receipt, order_id)
            return {"order_id": order_id}

        return [router]


def _send_receipt(order_id: int) -> None:
    try:
        logger.info("receipt sent for order %s", order_id)
    except OSError as exc:
        capture_exception(exc, order_id=order_id)


app = create_app(plugins=[ObservabilityPlugin(), Orders()], load_entrypoints=False)
