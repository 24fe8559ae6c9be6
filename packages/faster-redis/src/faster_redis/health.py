"""The `redis` health check: PING under the breaker, with latency and circuit state."""

from __future__ import annotations

from fastapi import FastAPI

from faster_core import CheckResult, HealthCheck
from faster_redis.context import STATE_KEY
from faster_redis.exceptions import RedisUnavailableError
from faster_redis.service import RedisService
from faster_redis.settings import RedisSettings

__all__ = ["redis_health_check"]


def redis_health_check(settings: RedisSettings) -> HealthCheck:
    """Critical, so that it shows in `/health/ready`; an outage reports degraded unless
    `ready_requires_redis` makes it fail readiness."""

    async def check(app: FastAPI) -> CheckResult:
        service: RedisService = getattr(app.state, STATE_KEY)
        try:
            latency_ms = await service.ping()
        except RedisUnavailableError:
            if settings.ready_requires_redis:
                raise
            return CheckResult(
                degraded=True,
                detail=f"{service.state}; circuit {service.breaker.state.value}",
            )
        return CheckResult(
            degraded=service.state != "up",
            detail=f"{service.state}; ping {latency_ms:.2f} ms; "
            f"circuit {service.breaker.state.value}",
        )

    return HealthCheck("redis", check, critical=True, timeout=settings.health_timeout)
