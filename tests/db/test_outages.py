"""Database outages answer 503 problems with Retry-After, never 500s, and recover by themselves
(faster_db/_errors.py, faster_db/middleware.py, faster_db/health.py)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from sqlalchemy import text

from faster_core import PluginInfo, hookimpl
from faster_core.testing import client_for
from tests.db.app_kit import make_app, schema_on
from tests.db.postgres_server import PostgresServer, find_bin_dir, running_server

pytestmark = pytest.mark.anyio


async def test_pool_exhaustion_answers_503_with_retry_after_and_leaks_nothing(
    db_url: str,
) -> None:
    app, _ = make_app(db_url, pool_size=2, max_overflow=0, pool_timeout=1.0)
    async with client_for(app) as client:
        responses = await asyncio.gather(*(client.get("/slow") for _ in range(20)))
        statuses = Counter(r.status_code for r in responses)
        assert statuses[500] == 0
        assert statuses == {200: 2, 503: 18}
        refused = next(r for r in responses if r.status_code == 503)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "5"
        assert refused.json()["type"] == "urn:faster:problem:db-pool-timeout"
        assert app.state.db.pool_status()["checked_out"] == 0


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, for tests that kill it."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail("no PostgreSQL binaries")
    with running_server(bin_dir) as server:
        yield server


async def test_a_killed_database_gives_503s_and_recovers_without_restarting_the_app(
    own_postgres: PostgresServer,
) -> None:
    app, _ = make_app(own_postgres.url(), connect_timeout=2.0)
    async with client_for(app) as client:
        await schema_on(app)
        assert (await client.post("/signin/before")).status_code == 200
        assert (await client.get("/accounts/1")).status_code == 200

        own_postgres.kill()
        for path in ("/accounts/1", "/signin/during", "/count"):
            method = client.post if path.startswith("/signin") else client.get
            response = await method(path)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["retry-after"] == "5"
            assert response.headers["content-type"] == "application/problem+json"
            assert "postgres" not in response.text.lower()
            assert "select" not in response.text.lower()
        started = time.monotonic()
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert time.monotonic() - started < 2.0
        assert (await client.get("/health/live")).status_code == 200

        own_postgres.start()
        assert (await client.get("/health/ready")).status_code == 200
        assert (await client.get("/accounts/1")).status_code == 200
        assert (await client.post("/signin/after")).status_code == 200
        assert (await client.get("/count")).json()["accounts"] == 2


async def test_an_unreachable_database_fails_readiness_and_keeps_the_password_out(
    postgres: PostgresServer,
) -> None:
    from tests.db.postgres_server import PASSWORD, free_port

    url = f"postgresql+asyncpg://postgres:{PASSWORD}@127.0.0.1:{free_port()}/nowhere"
    app, _ = make_app(url, connect_timeout=1.0)
    async with client_for(app) as client:
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        detail = await client.get("/health")
        response = await client.get("/accounts/1")
        assert response.status_code == 503
        for text_ in (ready.text, detail.text, response.text):
            assert PASSWORD not in text_


async def test_health_reports_pool_usage(sqlite_url: str) -> None:
    app, _ = make_app(sqlite_url)
    async with client_for(app) as client:
        body = (await client.get("/health")).json()
    (check,) = [c for c in body["checks"] if c["name"] == "db"]
    assert check["status"] == "pass"
    assert check["critical"] is True
    assert check["detail"].startswith("pool 0/15 in use")


class OSErrorRoute:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("oserror")

    @hookimpl
    def faster_routers(self) -> list[APIRouter]:
        router = APIRouter()

        @router.get("/file")
        async def file() -> None:
            raise FileNotFoundError("/nonexistent")

        return [router]


async def test_an_oserror_of_a_route_that_used_no_database_stays_a_500(sqlite_url: str) -> None:
    app, _ = make_app(sqlite_url, OSErrorRoute())
    async with client_for(app) as client:
        response = await client.get("/file")
    assert response.status_code == 500
    assert "nonexistent" not in response.text


async def test_session_scope_maps_an_outage_to_database_unavailable(
    own_postgres: PostgresServer,
) -> None:
    from faster_db import Database, DatabaseUnavailableError, DBSettings

    database = Database(DBSettings(_env_file=None, url=own_postgres.url(), connect_timeout=1.0))
    try:
        own_postgres.kill()
        with pytest.raises(DatabaseUnavailableError) as caught:
            async with database.session_scope() as session:
                await session.execute(text("SELECT 1"))
        assert caught.value.headers["Retry-After"] == "5"
        assert caught.value.__cause__ is not None
    finally:
        await database.dispose()


async def test_a_full_pool_is_degraded_not_down(db_url: str) -> None:
    app, _ = make_app(db_url, pool_size=1, max_overflow=0, pool_timeout=5.0)
    async with client_for(app) as client:
        slow = asyncio.create_task(client.get("/slow"))
        await asyncio.sleep(0.5)  # /slow holds the only connection for 2 s
        ready = await client.get("/health/ready")
        health = (await client.get("/health")).json()
        assert (await slow).status_code == 200
    assert ready.status_code == 200
    (check,) = [c for c in health["checks"] if c["name"] == "db"]
    assert check["degraded"] is True
    assert check["detail"].startswith("pool 1/1 in use")
