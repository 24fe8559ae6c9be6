"""Revocation per token and per user, in the database and in Redis, through the real app.

Two apps on one store stand for two workers, each with its own caches.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI

import faster_auth.plugin
import faster_db.plugin
from faster_auth.guard import Guard
from faster_core import FasterSettings, create_app
from faster_core.testing import client_for
from tests.auth.app_kit import protected_router
from tests.auth.test_accounts import login, register

pytestmark = pytest.mark.anyio

GuardAppFactory = Callable[..., FastAPI]


def guard_app(
    db_path: Path, private_pem: str, redis: dict[str, Any] | None = None, **auth: Any
) -> FastAPI:
    """db + auth (+ redis when `redis` holds its settings) and the protected test routes."""
    plugin_settings: dict[str, Any] = {
        "db": {"url": f"sqlite+aiosqlite:///{db_path}", "auto_migrate": True},
        "auth": {"private_key": private_pem, **auth},
    }
    plugins: list[object] = [faster_db.plugin, faster_auth.plugin]
    if redis is not None:
        import faster_redis.plugin

        plugin_settings["redis"] = redis
        plugins.insert(1, faster_redis.plugin)
    settings = FasterSettings(_env_file=None, env="test", plugin_settings=plugin_settings)
    app = create_app(settings, plugins=plugins, load_entrypoints=False)
    app.include_router(protected_router())
    return app


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    """`None` for the database store, else the redis plugin's settings for a real server."""
    if request.param == "database":
        return None
    pytest.importorskip("faster_redis", reason="faster-redis is not installed")
    settings: dict[str, Any] = request.getfixturevalue("redis_test_settings")
    return settings


@pytest.fixture
def factory(tmp_path: Path, private_pem: str, store: dict[str, Any] | None) -> GuardAppFactory:
    def build(**auth: Any) -> FastAPI:
        return guard_app(tmp_path / "app.db", private_pem, store, **auth)

    return build


def guard(app: FastAPI) -> Guard:
    found: Guard = app.state.auth_guard
    return found


def bearer(app: FastAPI, subject: str) -> tuple[dict[str, str], Any]:
    token = app.state.auth.issuer.issue(subject)
    return {"Authorization": f"Bearer {token}"}, app.state.auth.verifier.verify(token)


async def refused_within(client: httpx.AsyncClient, headers: dict[str, str], limit: float) -> float:
    started = time.monotonic()
    while (response := await client.get("/me", headers=headers)).status_code == 200:
        assert time.monotonic() - started < limit, "still accepted"
        await anyio.sleep(0.01)
    assert response.status_code == 401, response.text
    return time.monotonic() - started


async def test_a_revoked_token_is_refused_by_every_worker_within_a_second(
    factory: GuardAppFactory, store: dict[str, Any] | None
) -> None:
    worker_a, worker_b = factory(), factory()
    async with client_for(worker_a) as a, client_for(worker_b) as b:
        headers, token = bearer(worker_a, "user-1")
        other, _ = bearer(worker_a, "user-1")
        assert (await a.get("/me", headers=headers)).status_code == 200
        assert (await b.get("/me", headers=headers)).status_code == 200  # cached on b
        await guard(worker_a).revoke_token(token.token_id, token.expires_at)
        assert (await a.get("/me", headers=headers)).status_code == 401  # at once here
        delay = await refused_within(b, headers, 1.2)
        if store is not None:
            assert delay < 0.5  # pub/sub: at once, not at the end of the cache TTL
        assert (await b.get("/me", headers=other)).status_code == 200  # only that token


async def signed_in(client: httpx.AsyncClient, email: str) -> tuple[str, dict[str, str]]:
    user_id = (await register(client, email)).json()["id"]
    token = (await login(client, email)).json()["access_token"]
    return user_id, {"Authorization": f"Bearer {token}"}


async def test_revoking_a_user_refuses_every_token_issued_before(
    factory: GuardAppFactory,
) -> None:
    worker_a, worker_b = factory(), factory()
    async with client_for(worker_a) as a, client_for(worker_b) as b:
        user_id, headers = await signed_in(a, "ada@example.com")
        _, bystander = await signed_in(a, "bob@example.com")
        assert (await b.get("/me", headers=headers)).status_code == 200
        await anyio.sleep(1.01)  # `iat` has whole seconds; tokens of the revoking second pass
        await guard(worker_a).revoke_user_tokens(user_id)
        assert (await a.get("/me", headers=headers)).status_code == 401
        await refused_within(b, headers, 1.2)
        assert (await b.get("/me", headers=bystander)).status_code == 200
        await anyio.sleep(1.01)
        fresh = (await login(b, "ada@example.com")).json()["access_token"]
        assert (await a.get("/me", headers={"Authorization": f"Bearer {fresh}"})).status_code == 200


async def test_logout_revokes_the_access_token_sent_with_it(factory: GuardAppFactory) -> None:
    worker_a, worker_b = factory(), factory()
    async with client_for(worker_a) as a, client_for(worker_b) as b:
        await register(a, "ada@example.com")
        pair = (await login(a, "ada@example.com")).json()
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        assert (await b.get("/me", headers=headers)).status_code == 200
        body = {"refresh_token": pair["refresh_token"]}
        assert (await a.post("/auth/logout", json=body, headers=headers)).status_code == 204
        assert (await a.get("/me", headers=headers)).status_code == 401
        await refused_within(b, headers, 1.2)


async def test_logout_with_a_bad_bearer_token_still_signs_out(factory: GuardAppFactory) -> None:
    async with client_for(factory()) as client:
        await register(client, "ada@example.com")
        pair = (await login(client, "ada@example.com")).json()
        response = await client.post(
            "/auth/logout",
            json={"refresh_token": pair["refresh_token"]},
            headers={"Authorization": "Bearer not-a-token"},
        )
        assert response.status_code == 204


async def test_the_database_store_keeps_a_revocation_until_the_token_expires(
    tmp_path: Path, private_pem: str
) -> None:
    app = guard_app(tmp_path / "app.db", private_pem)
    async with client_for(app):
        revocations = guard(app).revocations
        now = int(time.time())
        await revocations.revoke_token("gone", now - 10)
        await revocations.revoke_token("kept", now + 600)
        assert await revocations.store.lookup("kept", "someone") == (True, None)
        assert await revocations.store.lookup("gone", "someone") == (False, None)
        assert await revocations.store.lookup("never", "someone") == (False, None)


@pytest.fixture
def fault_server(request: pytest.FixtureRequest) -> Any:
    """A redis-server of the test's own, to kill or freeze."""
    pytest.importorskip("faster_redis", reason="faster-redis is not installed")
    return request.getfixturevalue("redis_fault_server")


def fault_settings(server: Any) -> dict[str, Any]:
    return {
        "url": server.url,
        "socket_timeout": 0.2,
        "connect_timeout": 0.2,
        "circuit_reset_timeout": 0.5,
        "startup_retries": 0,
    }


async def statuses_during_outage(client: httpx.AsyncClient, headers: dict[str, str]) -> list[int]:
    await anyio.sleep(1.1)  # past the cache TTL: every answer must come from the store
    return [(await client.get("/me", headers=headers)).status_code for _ in range(30)]


@pytest.mark.parametrize("fault", ["down", "frozen"])
async def test_redis_unavailable_fails_closed_with_503_never_500(
    tmp_path: Path, private_pem: str, fault_server: Any, fault: str
) -> None:
    app = guard_app(tmp_path / "app.db", private_pem, fault_settings(fault_server))
    async with client_for(app) as client:
        headers, _ = bearer(app, "user-1")
        assert (await client.get("/me", headers=headers)).status_code == 200
        with getattr(fault_server, fault)():
            statuses = await statuses_during_outage(client, headers)
            refused = await client.get("/me", headers=headers)
            anonymous = await client.get("/maybe")
        assert set(statuses) == {503}, statuses
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) > 0
        assert anonymous.status_code == 200  # public routes do not need the store
        recovered_by = time.monotonic() + 5  # a probe goes through and closes the circuit
        while (await client.get("/me", headers=headers)).status_code != 200:
            assert time.monotonic() < recovered_by, "no recovery without a restart"
            await anyio.sleep(0.1)


async def test_revoking_while_redis_is_down_is_a_503_not_a_silent_success(
    tmp_path: Path, private_pem: str, fault_server: Any
) -> None:
    app = guard_app(tmp_path / "app.db", private_pem, fault_settings(fault_server))
    async with client_for(app):
        with fault_server.down(), pytest.raises(Exception) as raised:
            await guard(app).revoke_token("some-jti", int(time.time()) + 60)
        assert getattr(raised.value, "status", None) == 503


async def test_the_open_policy_serves_during_an_outage(
    tmp_path: Path, private_pem: str, fault_server: Any
) -> None:
    app = guard_app(
        tmp_path / "app.db",
        private_pem,
        fault_settings(fault_server),
        revocation_failure="open",
    )
    async with client_for(app) as client:
        headers, _ = bearer(app, "user-1")
        with fault_server.down():
            statuses = await statuses_during_outage(client, headers)
        assert set(statuses) == {200}
        assert guard(app).revocations.unavailable_open > 0
