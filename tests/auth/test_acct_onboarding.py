"""Onboarding status and completion, kept in the user's attributes (onboarding.py)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from faster_core.testing import client_for
from tests.auth.acct_kit import accounts_app, signed_in

pytestmark = pytest.mark.anyio

STEPS = ["profile", "avatar", "tour", "billing", "team", "invite"]


async def test_steps_complete_one_by_one(tmp_path: Path, private_pem: str) -> None:
    app = accounts_app(tmp_path, private_pem, onboarding_steps=STEPS[:2])
    async with client_for(app) as client:
        _, me = await signed_in(client, app, "ada@example.com")
        fresh = (await client.get("/auth/me/onboarding", headers=me)).json()
        assert fresh == {
            "steps": ["profile", "avatar"],
            "completed_steps": [],
            "complete": False,
            "completed_at": None,
        }
        one = await client.post("/auth/me/onboarding", json={"step": "profile"}, headers=me)
        assert one.json()["completed_steps"] == ["profile"]
        assert one.json()["complete"] is False
        unknown = await client.post("/auth/me/onboarding", json={"step": "nope"}, headers=me)
        assert unknown.status_code == 422
        assert unknown.headers["content-type"] == "application/problem+json"
        empty = await client.post("/auth/me/onboarding", json={}, headers=me)
        assert empty.status_code == 422
        done = await client.post("/auth/me/onboarding", json={"step": "avatar"}, headers=me)
        assert done.json()["complete"] is True
        assert done.json()["completed_at"] is not None
        assert (await client.get("/auth/me/onboarding", headers=me)).json() == done.json()
        assert (await client.get("/auth/me/onboarding")).status_code == 401


async def test_onboarding_is_per_user_and_can_complete_at_once(
    tmp_path: Path, private_pem: str
) -> None:
    app = accounts_app(tmp_path, private_pem)  # no steps configured: one switch
    async with client_for(app) as client:
        _, ada = await signed_in(client, app, "ada@example.com")
        _, bob = await signed_in(client, app, "bob@example.com")
        done = await client.post("/auth/me/onboarding", json={"complete": True}, headers=ada)
        assert done.json()["complete"] is True
        assert (await client.get("/auth/me/onboarding", headers=bob)).json()["complete"] is False


async def test_concurrent_steps_are_all_kept(tmp_path: Path, private_pem: str) -> None:
    app = accounts_app(tmp_path, private_pem, onboarding_steps=STEPS)
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
