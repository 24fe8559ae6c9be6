"""The suite scaled out: one app on PostgreSQL + a real Redis, as 4 uvicorn workers on one port
and, separately, as 2 processes on two loopback ports standing in for two hosts.

Everything is observed over real HTTP; `X-Worker-Pid` says which process answered. Changes that
must reach every process are checked on every process: requests keep going until each worker
has answered after the deadline.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped, import-not-found, unused-ignore]
import httpx
import pytest

from faster_observability.testing import parse_metrics
from tests.integration._procs import (
    AppProcesses,
    PostgresServer,
    RedisServer,
    app_environment,
    new_database,
    postgres_server,
    run_cli,
    temp_folder,
    write_signing_key,
)
from tests.integration.scale_app import PID_HEADER, RATE_LIMIT

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery staple"
PROPAGATION = 1.0
"""The bound of the issue: a change made on one process is in force on all within 1 s."""
SLACK = 0.1
"""Measurement slack on top of it: the test's clock starts when the change's response arrives,
while the server's cached answers may date from a read that began just before the commit."""


@dataclass
class Deployment:
    kind: str
    processes: AppProcesses
    db_url: str
    postgres: PostgresServer
    env: dict[str, str]
    log_offset: int
    tables_at_deploy: list[str]
    urls: Iterator[str] = field(init=False)

    def __post_init__(self) -> None:
        self.urls = itertools.cycle(self.processes.base_urls)

    @property
    def pids(self) -> set[int]:
        return self.processes.pids

    def url(self, path: str) -> str:
        return f"{next(self.urls)}{path}"

    def tables_created_since_deploy(self) -> list[str]:
        return _created_tables(self.postgres, self.log_offset)


def _created_tables(postgres: PostgresServer, offset: int) -> list[str]:
    """The table of every CREATE TABLE the server logged since `offset` (`log_statement=ddl`)."""
    text = (postgres.root / "server.log").read_bytes()[offset:].decode()
    return re.findall(r"LOG:\s+(?:statement|execute [^:]*):\s*CREATE TABLE (\w+)", text)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[PostgresServer, RedisServer]]:
    redis = RedisServer()
    redis.start()
    try:
        with postgres_server() as postgres:
            yield postgres, redis
    finally:
        redis.close()


def _environment(folder: Path, db_url: str, redis: RedisServer) -> dict[str, str]:
    metrics_dir = folder / "metrics"
    metrics_dir.mkdir()
    return app_environment(
        FASTER_ENV="staging",
        FASTER_DB_URL=db_url,
        FASTER_REDIS_URL=redis.url,
        FASTER_REDIS_PREFIX=f"scale-{uuid.uuid4().hex[:8]}:",
        # Local cache entries outlive the test: only an invalidation can make a reader fresh.
        FASTER_REDIS_CACHE_LOCAL_TTL="60",
        FASTER_AUTH_PRIVATE_KEY_FILE=str(write_signing_key(folder)),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        FASTER_OBSERVABILITY_ACCESS_LOG="false",
        FASTER_OBSERVABILITY_LOG_LEVEL="WARNING",
    )


@pytest.fixture(scope="module", params=["4-workers", "2-hosts"])
def deployment(
    request: pytest.FixtureRequest, servers: tuple[PostgresServer, RedisServer]
) -> Iterator[Deployment]:
    postgres, redis = servers
    folder = temp_folder("faster-scale-")
    log_offset = (postgres.root / "server.log").stat().st_size
    env = _environment(folder, new_database(postgres), redis)
    migrated = run_cli(env, "db", "upgrade", cwd=folder)  # the deploy step, before any worker
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    tables_at_deploy = _created_tables(postgres, log_offset)
    processes = AppProcesses(env, folder)
    if request.param == "4-workers":
        processes.start(workers=4)
    else:
        processes.start(hosts=2)
    try:
        yield Deployment(
            request.param,
            processes,
            env["FASTER_DB_URL"],
            postgres,
            env,
            log_offset,
            tables_at_deploy,
        )
    finally:
        processes.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # No keep-alive: every request is a new connection, which any worker may accept.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:
        yield client


def _pid(response: httpx.Response) -> int:
    return int(response.headers[PID_HEADER])


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _until_every_process(
    deployment: Deployment, send: Callable[[], Any], *, within: float = 10.0
) -> list[tuple[float, httpx.Response]]:
    """Requests (8 at a time) until every process answered one; (sent at, response) pairs."""
    seen: set[int] = set()
    answers: list[tuple[float, httpx.Response]] = []
    deadline = time.monotonic() + within

    async def one() -> None:
        sent = time.monotonic()
        response: httpx.Response = await send()
        answers.append((sent, response))
        seen.add(_pid(response))

    while seen != deployment.pids:
        assert time.monotonic() < deadline, f"only {seen} of {deployment.pids} answered"
        await asyncio.gather(*(one() for _ in range(8)))
    return answers


async def _register(deployment: Deployment, http: httpx.AsyncClient, *, admin: bool = False) -> str:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    body = {"email": email, "password": PASSWORD}
    registered = await http.post(deployment.url("/auth/register"), json=body)
    assert registered.status_code == 201, registered.text
    if admin:  # the first admin is bootstrapped in the database, as operators do
        await _sql(
            deployment,
            "INSERT INTO faster_auth_user_roles (user_id, role) "
            "SELECT id, 'admin' FROM faster_auth_users WHERE email = $1",
            email,
        )
    return email


async def _login(deployment: Deployment, http: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await http.post(
        deployment.url("/auth/login"), json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def _sql(deployment: Deployment, statement: str, *args: Any) -> Any:
    connection = await asyncpg.connect(deployment.db_url.replace("+asyncpg", ""))
    try:
        return await connection.fetch(statement, *args)
    finally:
        await connection.close()


async def _user_id(deployment: Deployment, http: httpx.AsyncClient, token: str) -> str:
    me = await http.get(deployment.url("/auth/me"), headers=_bearer(token))
    assert me.status_code == 200, me.text
    return str(me.json()["id"])


async def _after_next_second() -> None:
    """`iat` has whole seconds: a revocation in the token's own second would not apply to it."""
    await asyncio.sleep(1.0 - time.time() % 1.0 + 0.01)


# --- migrations -----------------------------------------------------------------------------


def test_migrations_ran_once_through_the_cli_before_the_workers(deployment: Deployment) -> None:
    tables = deployment.tables_created_since_deploy()
    assert {"alembic_version", "faster_auth_users", "faster_auth_refresh_tokens"} <= set(tables)
    assert len(tables) == len(set(tables)), f"a table was created twice: {tables}"
    assert deployment.tables_at_deploy == tables, "tables were created after the deploy step"


def test_workers_do_not_run_migrations(servers: tuple[PostgresServer, RedisServer]) -> None:
    postgres, redis = servers
    folder = temp_folder("faster-scale-nomigrate-")
    db_url = new_database(postgres)
    processes = AppProcesses(_environment(folder, db_url, redis), folder)
    processes.start(workers=2)
    try:
        tables = asyncio.run(_tables(db_url))
    finally:
        processes.stop()
        shutil.rmtree(folder, ignore_errors=True)
    assert tables == [], f"workers created tables at start-up: {tables}"


async def _tables(db_url: str) -> list[str]:
    connection = await asyncpg.connect(db_url.replace("+asyncpg", ""))
    try:
        rows = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    finally:
        await connection.close()
    return [row["tablename"] for row in rows]


# --- rate limits ----------------------------------------------------------------------------


async def test_a_rate_limit_of_n_is_exactly_n_across_every_process(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    headers = {"x-bucket": uuid.uuid4().hex}
    semaphore = asyncio.Semaphore(12)

    async def attempt() -> httpx.Response:
        async with semaphore:
            return await http.post(deployment.url("/scale/limited"), headers=headers)

    responses = await asyncio.gather(*(attempt() for _ in range(3 * RATE_LIMIT)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * RATE_LIMIT + [429] * (2 * RATE_LIMIT)
    refused = [r for r in responses if r.status_code == 429]
    assert all(r.headers["content-type"] == "application/problem+json" for r in refused)
    assert all(int(r.headers["retry-after"]) > 0 for r in refused)
    assert len({_pid(r) for r in responses}) > 1, "one process answered everything"


# --- auth: bans, sign-out everywhere, logout, roles ------------------------------------------


async def _refused_everywhere_within_the_bound(
    deployment: Deployment, http: httpx.AsyncClient, token: str, changed_at: float
) -> None:
    """Until every process answered after the bound: nothing after it is a 200."""
    await asyncio.sleep(max(0.0, changed_at + PROPAGATION + SLACK - time.monotonic()))
    bound = changed_at + PROPAGATION + SLACK
    answers = await _until_every_process(
        deployment, lambda: http.get(deployment.url("/auth/me"), headers=_bearer(token))
    )
    late = [(sent, r.status_code, _pid(r)) for sent, r in answers if sent >= bound]
    assert late
    assert all(status == 401 for _, status, _ in late), late
    assert all(r.headers["content-type"] == "application/problem+json" for _, r in answers)


async def test_a_ban_takes_effect_on_every_process_within_a_second(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    admin = await _login(deployment, http, await _register(deployment, http, admin=True))
    user = await _login(deployment, http, await _register(deployment, http))
    user_id = await _user_id(deployment, http, user["access_token"])
    warm = await _until_every_process(
        deployment,
        lambda: http.get(deployment.url("/auth/me"), headers=_bearer(user["access_token"])),
    )
    assert {r.status_code for _, r in warm} == {200}  # every process has cached "active"

    banned = await http.post(
        deployment.url(f"/auth/admin/users/{user_id}/ban"), headers=_bearer(admin["access_token"])
    )
    assert banned.status_code == 204, banned.text
    await _refused_everywhere_within_the_bound(
        deployment, http, user["access_token"], time.monotonic()
    )
    refreshed = await http.post(
        deployment.url("/auth/refresh"), json={"refresh_token": user["refresh_token"]}
    )
    assert refreshed.status_code == 401


async def test_sign_out_everywhere_takes_effect_on_every_process_within_a_second(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    user = await _login(deployment, http, await _register(deployment, http))
    token = user["access_token"]
    warm = await _until_every_process(
        deployment, lambda: http.get(deployment.url("/auth/me"), headers=_bearer(token))
    )
    assert {r.status_code for _, r in warm} == {200}
    await _after_next_second()
    signed_out = await http.post(deployment.url("/auth/logout-all"), headers=_bearer(token))
    assert signed_out.status_code == 204, signed_out.text
    await _refused_everywhere_within_the_bound(deployment, http, token, time.monotonic())


async def test_a_logged_out_refresh_token_is_refused_by_every_process(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    user = await _login(deployment, http, await _register(deployment, http))
    out = await http.post(
        deployment.url("/auth/logout"), json={"refresh_token": user["refresh_token"]}
    )
    assert out.status_code == 204, out.text
    answers = await _until_every_process(
        deployment,
        lambda: http.post(
            deployment.url("/auth/refresh"), json={"refresh_token": user["refresh_token"]}
        ),
    )
    assert {r.status_code for _, r in answers} == {401}


async def test_a_logged_out_access_token_is_refused_on_every_process_within_a_second(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    user = await _login(deployment, http, await _register(deployment, http))
    token = user["access_token"]
    warm = await _until_every_process(
        deployment, lambda: http.get(deployment.url("/auth/me"), headers=_bearer(token))
    )
    assert {r.status_code for _, r in warm} == {200}
    out = await http.post(
        deployment.url("/auth/logout"),
        json={"refresh_token": user["refresh_token"]},
        headers=_bearer(token),
    )
    assert out.status_code == 204, out.text
    await _refused_everywhere_within_the_bound(deployment, http, token, time.monotonic())


async def test_a_role_change_is_seen_by_every_process_and_reaches_the_next_refresh(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    admin = await _login(deployment, http, await _register(deployment, http, admin=True))
    user = await _login(deployment, http, await _register(deployment, http))
    user_id = await _user_id(deployment, http, user["access_token"])
    before = await http.get(deployment.url("/scale/editor"), headers=_bearer(user["access_token"]))
    assert before.status_code == 403

    granted = await http.put(
        deployment.url(f"/auth/admin/users/{user_id}/roles"),
        json={"roles": ["editor"]},
        headers=_bearer(admin["access_token"]),
    )
    assert granted.status_code == 200, granted.text
    seen = await _until_every_process(
        deployment,
        lambda: http.get(deployment.url("/auth/me"), headers=_bearer(user["access_token"])),
    )
    assert all(r.json()["roles"] == ["editor"] for _, r in seen)

    refreshed = await http.post(
        deployment.url("/auth/refresh"), json={"refresh_token": user["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    token = refreshed.json()["access_token"]
    allowed = await _until_every_process(
        deployment, lambda: http.get(deployment.url("/scale/editor"), headers=_bearer(token))
    )
    assert {r.status_code for _, r in allowed} == {200}


async def test_a_removed_role_is_refused_on_every_process_within_a_second(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    admin = await _login(deployment, http, await _register(deployment, http, admin=True))
    email = await _register(deployment, http)
    user_id = await _user_id(
        deployment, http, (await _login(deployment, http, email))["access_token"]
    )
    granted = await http.put(
        deployment.url(f"/auth/admin/users/{user_id}/roles"),
        json={"roles": ["editor"]},
        headers=_bearer(admin["access_token"]),
    )
    assert granted.status_code == 200, granted.text
    token = (await _login(deployment, http, email))["access_token"]
    assert (
        await http.get(deployment.url("/scale/editor"), headers=_bearer(token))
    ).status_code == 200

    # `iat` has whole seconds, and a token issued in the revoking second stays valid (or a
    # sign-in right after a revocation would be refused): revoke in a later second.
    await asyncio.sleep(1.1)
    removed = await http.put(
        deployment.url(f"/auth/admin/users/{user_id}/roles"),
        json={"roles": []},
        headers=_bearer(admin["access_token"]),
    )
    assert removed.status_code == 200, removed.text
    await asyncio.sleep(PROPAGATION + SLACK)
    answers = await _until_every_process(
        deployment, lambda: http.get(deployment.url("/scale/editor"), headers=_bearer(token))
    )
    assert {r.status_code for _, r in answers} <= {401, 403}


# --- cache ----------------------------------------------------------------------------------


async def test_a_cache_invalidation_on_one_process_is_seen_by_every_other(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    item = f"item-{uuid.uuid4().hex[:8]}"
    first = await http.put(deployment.url(f"/scale/items/{item}"), json={"value": "one"})
    assert first.status_code == 200, first.text
    cached = await _until_every_process(
        deployment, lambda: http.get(deployment.url(f"/scale/items/{item}"))
    )
    assert {r.json()["value"] for _, r in cached} == {"one"}  # every process holds it locally

    second = await http.put(deployment.url(f"/scale/items/{item}"), json={"value": "two"})
    assert second.status_code == 200, second.text
    await asyncio.sleep(PROPAGATION + SLACK)
    fresh = await _until_every_process(
        deployment, lambda: http.get(deployment.url(f"/scale/items/{item}"))
    )
    assert {r.json()["value"] for _, r in fresh} == {"two"}


# --- events ---------------------------------------------------------------------------------


async def test_an_event_published_on_one_process_reaches_the_handlers_of_all(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    for _ in range(2):  # published from two different processes (or hosts)
        emitted = await http.post(deployment.url("/scale/events"))
        assert emitted.status_code == 200, emitted.text
        event_id = emitted.json()["id"]
        deadline = time.monotonic() + 2.0
        while True:
            seen = await http.get(deployment.url(f"/scale/events/{event_id}"))
            assert seen.status_code == 200, seen.text
            if set(seen.json()["pids"]) == deployment.pids:
                break
            assert time.monotonic() < deadline, f"{seen.json()} != {deployment.pids}"
            await asyncio.sleep(0.05)
        assert len(seen.json()["pids"]) == len(deployment.pids)  # once per process, no more


# --- metrics --------------------------------------------------------------------------------


async def test_prometheus_totals_scraped_from_any_process_equal_the_requests_sent(
    deployment: Deployment, http: httpx.AsyncClient
) -> None:
    sent = 200
    semaphore = asyncio.Semaphore(16)

    async def whoami() -> int:
        async with semaphore:
            response = await http.get(deployment.url("/scale/whoami"))
        assert response.status_code == 200
        return _pid(response)

    served_by = await asyncio.gather(*(whoami() for _ in range(sent)))
    assert len(set(served_by)) > 1
    scrapes = await _until_every_process(deployment, lambda: http.get(deployment.url("/metrics")))
    for _, scrape in scrapes:
        assert scrape.status_code == 200
        metrics = parse_metrics(scrape.text)
        assert metrics.total("http_requests_total", route="/scale/whoami") == sent
