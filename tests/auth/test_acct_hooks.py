"""The hooks faster-auth publishes, implemented by real plugin objects (hookspecs.py,
account_events.py, delivery.py)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from faster_auth import hookspecs
from faster_auth.models import AuditEvent
from faster_auth.schemas import UserOut
from faster_core import PluginInfo, hookimpl
from faster_core.testing import client_for
from tests.auth.acct_kit import (
    PASSWORD,
    Recorder,
    accounts_app,
    bearer,
    login,
    register,
    settle,
    signed_in,
)

pytestmark = pytest.mark.anyio


class Slow:
    """An implementer that takes far longer than any response may wait."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("slow", "1.0")

    @hookimpl
    async def faster_auth_user_created(self, user: UserOut) -> None:
        self.started.set()
        await asyncio.sleep(30)


class Broken:
    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("broken", "1.0")

    @hookimpl
    def faster_auth_user_created(self, user: UserOut) -> None:
        raise RuntimeError("this handler is broken")


def test_every_published_hook_is_documented_and_typed() -> None:
    names = [n for n in dir(hookspecs) if n.startswith("faster_auth_")]
    assert sorted(names) == sorted(hookspecs.__all__)
    for name in names:
        spec = getattr(hookspecs, name)
        doc = inspect.getdoc(spec) or ""
        assert "Args:" in doc, name
        assert "Returns:" in doc, name
        for argument in inspect.signature(spec).parameters:
            assert f"{argument}:" in doc, (name, argument)


async def test_a_plugin_receives_every_account_event(tmp_path: Path, private_pem: str) -> None:
    recorder = Recorder()
    app = accounts_app(tmp_path, private_pem, recorder)
    async with client_for(app) as client:
        admin_id, admin = await signed_in(client, app, "admin@example.com", ("admin",))
        user_id, user = await signed_in(client, app, "user@example.com")
        pair = (await login(client, "user@example.com")).json()
        await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]})
        await client.post("/auth/logout-all", headers=user)
        roles = {"roles": ["editor"]}
        await client.put(f"/auth/admin/users/{user_id}/roles", json=roles, headers=admin)
        await client.post(f"/auth/admin/users/{user_id}/ban", headers=admin)
        await client.post(f"/auth/admin/users/{user_id}/unban", headers=admin)
        await client.post("/auth/password-reset", json={"email": "user@example.com"})
        fresh = (await login(client, "user@example.com")).json()
        await client.post("/auth/me/deactivate", json={"password": PASSWORD}, headers=bearer(fresh))
        await settle(app)
        async with app.state.db.session_scope(readonly=True) as session:
            audited = set(await session.scalars(select(AuditEvent.type)))
    # Every event is also in the audit trail.
    assert audited >= {
        "register",
        "login",
        "logout",
        "logout_all",
        "roles_change",
        "ban",
        "unban",
        "password_reset_request",
        "email_verification_request",
        "deactivate",
    }
    assert [e["user"].email for e in recorder.named("created")] == [
        "admin@example.com",
        "user@example.com",
    ]
    assert len(recorder.named("signed_in")) == 4
    assert recorder.named("signed_out") == [
        {"user_id": uuid.UUID(user_id), "everywhere": False},
        {"user_id": uuid.UUID(user_id), "everywhere": True},
    ]
    (changed,) = recorder.named("roles")
    assert (changed["user"].roles, changed["previous"]) == (["editor"], [])
    assert changed["actor_id"] == uuid.UUID(admin_id)
    assert [e["user"].status for e in recorder.named("banned")] == ["banned"]
    assert [e["user"].status for e in recorder.named("unbanned")] == ["active"]
    assert [e["user"].email for e in recorder.named("reset")] == ["user@example.com"]
    assert len(recorder.named("verify")) == 2  # one per registration
    assert [e["user"].status for e in recorder.named("deactivated")] == ["deactivated"]


async def test_a_slow_or_broken_implementer_never_holds_up_the_response(
    tmp_path: Path, private_pem: str, caplog: pytest.LogCaptureFixture
) -> None:
    slow, recorder = Slow(), Recorder()
    app = accounts_app(tmp_path, private_pem, slow, Broken(), recorder)
    caplog.set_level(logging.ERROR, logger="faster_auth")
    async with client_for(app) as client:
        started = time.monotonic()
        response = await register(client)
        assert response.status_code == 201
        await asyncio.wait_for(slow.started.wait(), 10)
        assert time.monotonic() - started < 15  # registration alone; never the 30 s handler
        await app.state.auth_accounts.events.drain(grace=0.5)  # cancels the slow handler
    # The broken handler is reported with its plugin's name and the others still ran.
    assert any("'broken'" in r.getMessage() for r in caplog.records)
    assert [e["user"].email for e in recorder.named("created")] == ["ada@example.com"]


async def test_without_an_implementer_the_link_is_logged_once_in_development(
    tmp_path: Path, private_pem: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = accounts_app(tmp_path, private_pem, env="development")
    with caplog.at_level(logging.DEBUG):
        async with client_for(app) as client:
            await register(client)
            response = await client.post("/auth/password-reset", json={"email": "ada@example.com"})
            await settle(app)
    delivered = [r for r in caplog.records if "#token=" in r.getMessage()]
    resets = [r for r in delivered if "password_reset" in r.getMessage()]
    assert len(resets) == 1
    assert resets[0].name == "faster_auth.delivery"
    token = resets[0].getMessage().rpartition("#token=")[2]
    leaks = [r for r in caplog.records if token in r.getMessage() and r is not resets[0]]
    assert leaks == []
    assert token not in response.text


async def test_in_production_an_undelivered_link_is_an_error_without_the_link(
    tmp_path: Path, private_pem: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = accounts_app(
        tmp_path,
        private_pem,
        env="production",
        password_reset_url="https://app.example.com/reset",
        email_verification_url="https://app.example.com/verify",
    )
    with caplog.at_level(logging.DEBUG):
        async with client_for(app) as client:
            await register(client)
            await client.post("/auth/password-reset", json={"email": "ada@example.com"})
            await settle(app)
    assert not [r for r in caplog.records if "#token=" in r.getMessage()]
    errors = [r for r in caplog.records if r.name == "faster_auth.delivery"]
    assert errors
    assert all(r.levelno == logging.ERROR for r in errors)
