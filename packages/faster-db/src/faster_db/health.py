"""The db health check: `SELECT 1` on the primary and each replica, and the pool's usage."""

from __future__ import annotations

from fastapi import FastAPI

from faster_core import CheckResult, HealthCheck
from faster_db.database import Database
from faster_db.settings import DBSettings

__all__ = ["db_health_check"]


def db_health_check(settings: DBSettings) -> HealthCheck:
    """A critical check named `db`, under `FASTER_DB_HEALTH_TIMEOUT`.

    Degraded (still passing) when every connection of the pool is checked out.
    """

    async def check(app: FastAPI) -> CheckResult:
        database: Database = app.state.db
        await database.ping()
        pool = database.pool_status()
        busy = pool["checked_out"] >= pool["capacity"]
        detail = f"pool {pool['checked_out']}/{pool['capacity']} in use"
        if database.replicas:
            detail += f", {len(database.replicas)} replica(s) up"
        return CheckResult(degraded=busy, detail=detail)

    return HealthCheck("db", check, critical=True, timeout=settings.health_timeout)
