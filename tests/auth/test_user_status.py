"""The per-request user check: cached for the TTL, one query for concurrent misses."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, update

from faster_auth.exceptions import InvalidTokenError
from faster_auth.models import User
from faster_auth.user_status import UserGate
from tests.auth.test_admin import signed_in

pytestmark = pytest.mark.anyio


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def count_user_queries(app: FastAPI) -> list[str]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM faster_auth_users" in statement:
            statements.append(statement)

    event.listen(app.state.db.primary.sync_engine, "before_cursor_execute", before)
    return statements


async def test_concurrent_misses_share_one_query(
    client: httpx.AsyncClient, auth_app: FastAPI
) -> None:
    user_id, _ = await signed_in(client, auth_app, "user@example.com")
    gate = UserGate("urn:faster:local", 1.0, clock=Clock())
    queries = count_user_queries(auth_app)
    await asyncio.gather(
        *(gate.check(auth_app.state.db, user_id, 2_000_000_000) for _ in range(50))
    )
    assert len(queries) == 1


async def test_the_answer_is_cached_for_the_ttl_only(
    client: httpx.AsyncClient, auth_app: FastAPI
) -> None:
    user_id, _ = await signed_in(client, auth_app, "user@example.com")
    clock = Clock()
    gate = UserGate("urn:faster:local", 1.0, clock=clock)
    database = auth_app.state.db
    await gate.check(database, user_id, 2_000_000_000)
    async with database.session_scope() as session:
        await session.execute(update(User).values(status="banned"))
    clock.now += 0.9
    await gate.check(database, user_id, 2_000_000_000)  # still the cached answer
    clock.now += 0.1
    with pytest.raises(InvalidTokenError):
        await gate.check(database, user_id, 2_000_000_000)


async def test_a_subject_outside_the_store_is_not_restricted(auth_app: FastAPI) -> None:
    from faster_core.testing import client_for

    async with client_for(auth_app):
        gate = UserGate("urn:faster:local", 1.0)
        await gate.check(auth_app.state.db, "service-account", 0)
