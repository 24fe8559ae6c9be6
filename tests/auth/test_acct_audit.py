"""The audit trail: off the request path, batched, bounded, with request context and no
secrets (audit.py, account_services.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy.engine import Connection

from faster_auth import plugin
from faster_auth.audit import AuditTrail
from faster_auth.models import AuditEvent
from faster_db import Database, DBSettings, migrations
from faster_db.plugin import faster_db_migrations as db_sources
from tests.auth.acct_kit import (
    NEW_PASSWORD,
    PASSWORD,
    Recorder,
    accounts_app,
    bearer,
    login,
    register,
    settle,
)

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def client_from(app: FastAPI, peer: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `peer` (the socket address the app sees)."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def rows(app: FastAPI) -> list[AuditEvent]:
    async with app.state.db.session_scope(readonly=True) as session:
        return list(await session.scalars(select(AuditEvent).order_by(AuditEvent.occurred_at)))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(DBSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"))
    await migrations.upgrade(database, [*db_sources(), *plugin.faster_db_migrations()])
    yield database
    await database.dispose()


async def test_events_carry_the_request_context(tmp_path: Path, private_pem: str) -> None:
    app = accounts_app(tmp_path, private_pem, trusted_proxies=["10.0.0.0/8"])
    forwarded = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9", "User-Agent": "probe/" + "x" * 500}
    async with client_from(app, "10.1.2.3") as client:
        user_id = (await register(client)).json()["id"]
        await client.post(
            "/auth/login",
            json={"email": "ada@example.com", "password": "wrong password!"},
            headers={**forwarded, "X-Request-ID": "req-failed-login"},
        )
        pair = (await login(client)).json()
        await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        await client.post("/auth/logout-all", headers=bearer(pair))
        await settle(app)
        stored = await rows(app)
    by_type = {(r.type, r.outcome): r for r in stored}
    assert set(by_type) >= {
        ("register", "success"),
        ("login", "failure"),
        ("login", "success"),
        ("refresh_reuse_detected", "denied"),
        ("logout_all", "success"),
    }
    failed = by_type["login", "failure"]
    assert failed.request_id == "req-failed-login"
    assert failed.ip == "203.0.113.9"  # the right-most hop the trusted proxy did not add
    assert failed.user_agent == ("probe/" + "x" * 500)[:256]
    assert failed.detail == {"reason": "password"}
    assert str(failed.user_id) == user_id
    assert str(by_type["refresh_reuse_detected", "denied"].user_id) == user_id
    assert by_type["register", "success"].ip == "10.1.2.3"


async def test_an_untrusted_peer_cannot_choose_its_recorded_ip(
    tmp_path: Path, private_pem: str
) -> None:
    app = accounts_app(tmp_path, private_pem)
    async with client_from(app, "198.51.100.7") as client:
        await client.post(
            "/auth/login",
            json={"email": "nobody@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": "1.2.3.4"},
        )
        await settle(app)
        (failed,) = await rows(app)
    assert (failed.type, failed.ip, failed.user_id) == ("login", "198.51.100.7", None)
    assert failed.detail == {"reason": "unknown"}


async def test_no_secret_reaches_the_audit_trail(tmp_path: Path, private_pem: str) -> None:
    recorder = Recorder()
    app = accounts_app(tmp_path, private_pem, recorder)
    async with client_from(app, "127.0.0.1") as client:
        await register(client)
        pair = (await login(client)).json()
        await client.post(
            "/auth/login?token=query-secret-value&password=query-password",
            json={"email": "ada@example.com", "password": "wrong password!"},
        )
        await client.post("/auth/password-reset", json={"email": "ada@example.com"})
        await settle(app)
        reset_token = recorder.token("reset")
        verify_token = recorder.token("verify")
        await client.post(
            "/auth/password-reset/confirm",
            json={"token": reset_token, "new_password": NEW_PASSWORD},
        )
        await client.post("/auth/verify-email/confirm", json={"token": verify_token})
        await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        await settle(app)
        stored = await rows(app)
    dump = "\n".join(
        repr({c.key: getattr(r, c.key) for c in AuditEvent.__table__.columns}) for r in stored
    )
    assert {r.type for r in stored} >= {
        "register",
        "login",
        "password_reset_request",
        "password_reset",
        "email_verification_request",
        "email_verification",
        "refresh_reuse_detected",
    }
    secrets = [
        PASSWORD,
        NEW_PASSWORD,
        "wrong password!",
        pair["access_token"],
        pair["refresh_token"],
        reset_token,
        verify_token,
        "query-secret-value",
        "query-password",
    ]
    for secret in secrets:
        assert secret not in dump


def test_credential_keys_never_enter_an_event_detail() -> None:
    from faster_auth.audit import AuditEntry

    entry = AuditEntry(
        "login",
        "failure",
        detail={"reason": "x", "password": "p", "refresh_token": "t", "query_string": "q"},
    )
    assert entry.row()["detail"] == {"reason": "x"}


async def test_a_full_queue_drops_and_counts_and_never_blocks(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    trail = AuditTrail(database, queue_size=2, batch_size=10)
    with caplog.at_level(logging.WARNING, logger="faster_auth.audit"):
        for _ in range(5):
            trail.record("login", "failure")  # synchronous: it cannot wait
    assert trail.dropped == 3
    assert sum("audit queue full" in r.getMessage() for r in caplog.records) == 3
    trail.start()
    await trail.stop()
    assert trail.written == 2
    async with database.session_scope(readonly=True) as session:
        assert len(list(await session.scalars(select(AuditEvent.id)))) == 2


async def test_events_are_written_in_batches(database: Database) -> None:
    inserts: list[int] = []

    def count(conn: Connection, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if statement.startswith("INSERT INTO faster_auth_audit_events"):
            inserts.append(len(params) if rest[-1] else 1)  # rest: context, executemany

    event.listen(database.primary.sync_engine, "before_cursor_execute", count)
    trail = AuditTrail(database, queue_size=1000, batch_size=20)
    for number in range(50):
        trail.record("login", "success", detail={"n": number})
    trail.start()
    await trail.stop()
    assert trail.written == 50
    assert inserts == [20, 20, 10]


async def test_shutdown_writes_what_is_still_queued(tmp_path: Path, private_pem: str) -> None:
    app = accounts_app(tmp_path, private_pem)
    async with client_from(app, "127.0.0.1") as client:
        for _ in range(3):
            await client.post(
                "/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
            )
    database = Database(DBSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"))
    try:
        async with database.session_scope(readonly=True) as session:
            types = list(await session.scalars(select(AuditEvent.type)))
    finally:
        await database.dispose()
    assert types == ["login"] * 3


async def test_audit_can_be_turned_off(tmp_path: Path, private_pem: str) -> None:
    app = accounts_app(tmp_path, private_pem, audit_enabled=False)
    async with client_from(app, "127.0.0.1") as client:
        assert (await register(client)).status_code == 201
        assert app.state.auth_accounts.audit is None
        assert await rows(app) == []
