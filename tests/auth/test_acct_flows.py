"""Account flows through the real app: password change and reset, email verification,
deactivation (accounts.py, account_changes.py, onetime.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from faster_auth.models import OneTimeToken, RefreshToken, User
from faster_auth.refresh_tokens import hash_token
from faster_core.testing import client_for
from faster_db import utcnow
from tests.auth.acct_kit import (
    NEW_PASSWORD,
    PASSWORD,
    Recorder,
    accounts_app,
    bearer,
    eventually,
    login,
    register,
    settle,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def app(tmp_path: Path, private_pem: str, recorder: Recorder) -> FastAPI:
    return accounts_app(tmp_path, private_pem, recorder)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


async def test_changing_the_password_needs_the_old_one_and_ends_other_sessions(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    old = (await login(client)).json()
    await anyio.sleep(1.01)  # `iat` has whole seconds; tokens of the revoking second stay valid
    wrong = await client.post(
        "/auth/password",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=bearer(old),
    )
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"
    assert (await client.get("/me", headers=bearer(old))).status_code == 200

    changed = await client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(old),
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get("/me", headers=bearer(old))).status_code == 401
    refused = await client.post("/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert refused.status_code == 401
    assert (await client.get("/me", headers=bearer(changed.json()))).status_code == 200
    assert (await login(client)).status_code == 401
    assert (await login(client, password=NEW_PASSWORD)).status_code == 200


async def test_a_new_password_must_pass_the_policy(client: httpx.AsyncClient) -> None:
    await register(client)
    pair = (await login(client)).json()
    for weak, rule in (
        ("short", "at least 10"),
        ("password123", "too common"),
        ("x" * 300, "at most"),
    ):
        response = await client.post(
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": weak},
            headers=bearer(pair),
        )
        assert response.status_code == 422, weak
        assert rule in response.json()["detail"]


async def test_a_reset_request_answers_the_same_for_unknown_and_known_emails(
    client: httpx.AsyncClient, app: FastAPI, recorder: Recorder
) -> None:
    await register(client)
    headers = {"X-Request-ID": "same-id"}
    known = await client.post(
        "/auth/password-reset", json={"email": "ada@example.com"}, headers=headers
    )
    unknown = await client.post(
        "/auth/password-reset", json={"email": "nobody@example.com"}, headers=headers
    )
    garbage = await client.post(
        "/auth/password-reset", json={"email": "not an email"}, headers=headers
    )
    assert known.status_code == unknown.status_code == garbage.status_code == 202
    assert known.content == unknown.content == garbage.content
    assert dict(known.headers) == dict(unknown.headers) == dict(garbage.headers)
    await settle(app)
    (reset,) = recorder.named("reset")
    assert reset["user"].email == "ada@example.com"
    assert reset["link"].startswith("http://localhost:8000/reset-password#token=")


async def test_a_reset_token_works_once_and_ends_every_session(
    client: httpx.AsyncClient, app: FastAPI, recorder: Recorder
) -> None:
    await register(client)
    old = (await login(client)).json()
    await anyio.sleep(1.01)
    await client.post("/auth/password-reset", json={"email": "ada@example.com"})
    await settle(app)
    token = recorder.token("reset")
    async with app.state.db.session_scope(readonly=True) as session:
        stored = list(await session.scalars(select(OneTimeToken.token_hash)))
    assert hash_token(token) in stored
    assert token not in stored

    body = {"token": token, "new_password": NEW_PASSWORD}
    first = await client.post("/auth/password-reset/confirm", json=body)
    assert first.status_code == 204, first.text
    again = await client.post("/auth/password-reset/confirm", json=body)
    assert again.status_code == 404
    assert again.json()["detail"] == "The link is invalid or has expired."
    assert (await client.get("/me", headers=bearer(old))).status_code == 401
    gone = await client.post("/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert gone.status_code == 401
    assert (await login(client, password=NEW_PASSWORD)).status_code == 200
    me = await client.get(
        "/auth/me", headers=bearer((await login(client, password=NEW_PASSWORD)).json())
    )
    assert me.json()["email_verified"] is True  # the link proved the address


async def test_an_expired_or_superseded_reset_token_is_refused(
    client: httpx.AsyncClient, app: FastAPI, recorder: Recorder
) -> None:
    await register(client)
    for _ in range(2):
        await client.post("/auth/password-reset", json={"email": "ada@example.com"})
        await settle(app)
    first, second = (r["link"].partition("#token=")[2] for r in recorder.named("reset"))
    same_id = {"X-Request-ID": "same-id"}
    superseded = await client.post(
        "/auth/password-reset/confirm",
        json={"token": first, "new_password": NEW_PASSWORD},
        headers=same_id,
    )
    assert superseded.status_code == 404
    async with app.state.db.session_scope() as session:
        await session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.token_hash == hash_token(second))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = await client.post(
        "/auth/password-reset/confirm",
        json={"token": second, "new_password": NEW_PASSWORD},
        headers=same_id,
    )
    assert expired.status_code == 404
    assert expired.content == superseded.content
    assert (await login(client)).status_code == 200  # the password never changed


async def test_concurrent_uses_of_one_reset_token_succeed_once(
    client: httpx.AsyncClient, app: FastAPI, recorder: Recorder
) -> None:
    await register(client)
    await client.post("/auth/password-reset", json={"email": "ada@example.com"})
    await settle(app)
    body = {"token": recorder.token("reset"), "new_password": NEW_PASSWORD}
    statuses: list[int] = []

    async def confirm() -> None:
        statuses.append((await client.post("/auth/password-reset/confirm", json=body)).status_code)

    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(confirm)
    assert sorted(statuses) == [204, 404, 404, 404]


async def test_registration_sends_a_verification_link_that_verifies_once(
    client: httpx.AsyncClient, app: FastAPI, recorder: Recorder
) -> None:
    await register(client)
    pair = (await login(client)).json()
    await settle(app)
    assert (await client.get("/auth/me", headers=bearer(pair))).json()["email_verified"] is False
    first = recorder.token("verify")
    again = await client.post("/auth/verify-email", headers=bearer(pair))
    assert again.status_code == 202
    await eventually(lambda: len(recorder.named("verify")) == 2)
    second = recorder.token("verify")

    async def confirm(token: str) -> int:
        response = await client.post("/auth/verify-email/confirm", json={"token": token})
        return response.status_code

    assert await confirm(first) == 404  # superseded by the second link
    assert await confirm(second) == 204
    assert await confirm(second) == 404
    assert (await client.get("/auth/me", headers=bearer(pair))).json()["email_verified"] is True
    # A verified address gets no more links; asking needs a signed-in caller.
    assert (await client.post("/auth/verify-email", headers=bearer(pair))).status_code == 202
    await settle(app)
    assert len(recorder.named("verify")) == 2
    assert (await client.post("/auth/verify-email")).status_code == 401


async def test_deactivating_needs_the_password_and_ends_everything(
    client: httpx.AsyncClient, app: FastAPI, recorder: Recorder
) -> None:
    await register(client)
    pair = (await login(client)).json()
    await anyio.sleep(1.01)
    wrong = await client.post(
        "/auth/me/deactivate", json={"password": "guess guess"}, headers=bearer(pair)
    )
    assert wrong.status_code == 403
    done = await client.post(
        "/auth/me/deactivate", json={"password": PASSWORD}, headers=bearer(pair)
    )
    assert done.status_code == 204
    assert (await client.get("/me", headers=bearer(pair))).status_code == 401
    assert (
        await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    ).status_code == 401
    assert (await login(client)).status_code == 401
    async with app.state.db.session_scope(readonly=True) as session:
        assert await session.scalar(select(User.status)) == "deactivated"
        assert all(r.revoked_at is not None for r in await session.scalars(select(RefreshToken)))
    # A deactivated account cannot be taken over through a reset either.
    await client.post("/auth/password-reset", json={"email": "ada@example.com"})
    await settle(app)
    assert recorder.named("reset") == []
    assert [e["user"].status for e in recorder.named("deactivated")] == ["deactivated"]
