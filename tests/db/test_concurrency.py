"""Concurrent first sign-ins: upsert under load loses nothing and collides with nothing, where
select-then-insert fails (faster_db/repository.py, faster_db/_engine.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest

from faster_core.testing import client_for
from tests.db.app_kit import make_app, schema_on

pytestmark = pytest.mark.anyio

KEYS = 50
BURST = 20
CONCURRENCY = 100


async def sign_in_storm(client: httpx.AsyncClient, route: str) -> Counter[int]:
    """1,000 requests: bursts of 20 per key for 50 new keys, at most 100 in flight."""
    keys = [uuid.uuid4().hex for _ in range(KEYS)]
    gate = asyncio.Semaphore(CONCURRENCY)
    statuses: Counter[int] = Counter()
    bodies: list[str] = []

    async def one(key: str) -> None:
        async with gate:
            response = await client.post(f"{route}/{key}")
        statuses[response.status_code] += 1
        if response.status_code != 200:
            bodies.append(response.text)

    await asyncio.gather(*(one(key) for key in keys for _ in range(BURST)))
    return statuses


async def test_upserting_first_sign_ins_under_load_makes_exactly_one_row_per_key(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, _ = make_app(db_url)
    async with client_for(app) as client:
        await schema_on(app)
        statuses = await sign_in_storm(client, "/signin")
        counts = (await client.get("/count")).json()
    assert statuses == {200: KEYS * BURST}
    assert counts == {"accounts": KEYS, "sign_ins": KEYS * BURST}
    logged = caplog.text
    assert "IntegrityError" not in logged
    assert "database is locked" not in logged


async def test_naive_select_then_insert_fails_under_the_same_load(pg_url: str) -> None:
    """The load above is known to bite: the read-then-insert version collides."""
    app, _ = make_app(pg_url)
    async with client_for(app) as client:
        await schema_on(app)
        statuses = await sign_in_storm(client, "/naive")
        counts = (await client.get("/count")).json()
    assert statuses[409] > 0  # unique violations from concurrent inserts of the same key
    assert statuses[200] + statuses[409] == KEYS * BURST
    assert counts["accounts"] == KEYS
