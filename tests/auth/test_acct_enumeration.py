"""Enumeration: unknown user, wrong password and banned / deactivated accounts look the same,
in body and (loosely) in time (accounts.py sign_in, passwords.py verify_or_dummy)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from faster_auth.models import User
from faster_core.testing import client_for
from tests.auth.acct_kit import PASSWORD, accounts_app, register

pytestmark = pytest.mark.anyio

ATTEMPTS = {
    "unknown": {"email": "nobody@example.com", "password": PASSWORD},
    "wrong password": {"email": "ada@example.com", "password": "wrong password!"},
    "banned": {"email": "banned@example.com", "password": PASSWORD},
    "deactivated": {"email": "gone@example.com", "password": PASSWORD},
}


async def _prepare(client: httpx.AsyncClient, app: FastAPI) -> None:
    for email in ("ada@example.com", "banned@example.com", "gone@example.com"):
        assert (await register(client, email)).status_code == 201
    async with app.state.db.session_scope() as session:
        for email, status in (
            ("banned@example.com", "banned"),
            ("gone@example.com", "deactivated"),
        ):
            await session.execute(update(User).where(User.email == email).values(status=status))


async def test_failed_sign_ins_are_byte_identical(tmp_path: Path, private_pem: str) -> None:
    app = accounts_app(tmp_path, private_pem)
    async with client_for(app) as client:
        await _prepare(client, app)
        headers = {"X-Request-ID": "same-id"}
        responses = {
            why: await client.post("/auth/login", json=body, headers=headers)
            for why, body in ATTEMPTS.items()
        }
        form = {"username": "nobody@example.com", "password": PASSWORD}
        token_route = await client.post("/auth/token", data=form, headers=headers)
    assert {r.status_code for r in responses.values()} == {401}
    assert len({r.content for r in responses.values()}) == 1
    assert len({tuple(sorted(r.headers.items())) for r in responses.values()}) == 1
    assert token_route.status_code == 401
    assert token_route.json()["detail"] == "The email or password is incorrect."


async def test_failed_sign_ins_take_about_as_long(tmp_path: Path, private_pem: str) -> None:
    """Medians within 3x of each other: an unknown email still pays an argon2 verification.

    Loose on purpose (the machine is shared); without the dummy hash, an unknown email answers
    in a few milliseconds against hundreds for a wrong password, far outside 3x.
    """
    app = accounts_app(tmp_path, private_pem)
    async with client_for(app) as client:
        await _prepare(client, app)
        timings: dict[str, list[float]] = {why: [] for why in ATTEMPTS}
        for _ in range(5):
            for why, body in ATTEMPTS.items():
                started = time.perf_counter()
                await client.post("/auth/login", json=body)
                timings[why].append(time.perf_counter() - started)
    medians = {why: statistics.median(t) for why, t in timings.items()}
    assert max(medians.values()) < 3 * min(medians.values()), medians
