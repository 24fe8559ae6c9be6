"""Non-critical health checks: Sentry's transport and the metrics registry.

Neither fails readiness: an app keeps serving while Sentry is unreachable or a scrape would
fail; `/health` shows the check as degraded.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import FastAPI

from faster_core import CheckResult, HealthCheck
from faster_observability.exceptions import SentryTransportError
from faster_observability.settings import ObservabilitySettings

__all__ = ["observability_health_checks"]


async def _sentry(app: FastAPI) -> CheckResult:
    installation = app.state.observability.sentry
    if installation is None or not installation.healthy():
        raise SentryTransportError
    return CheckResult(detail="transport ready")


async def _metrics(app: FastAPI) -> CheckResult:
    state = app.state.observability.metrics
    if state.multiprocess_dir is None:
        body = state.exposition()
    else:  # reads every worker's files: off the event loop
        body = await anyio.to_thread.run_sync(state.exposition)
    return CheckResult(detail=f"{body.count(b'# TYPE ')} metric families")


def observability_health_checks(settings: ObservabilitySettings) -> list[HealthCheck]:
    checks = []
    if settings.sentry_dsn is not None:
        checks.append(HealthCheck("sentry", _sentry, critical=False, timeout=1.0))
    if settings.metrics:
        checks.append(HealthCheck("metrics", _metrics, critical=False, timeout=1.0))
    return checks
