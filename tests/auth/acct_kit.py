"""Helpers of the account-flow tests (test_acct_*): an app with extra plugins, a recording
implementer of every faster-auth hook, and waiting for the background work to land."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

import faster_auth.plugin
import faster_db.plugin
from faster_auth.account_services import AccountServices
from faster_auth.models import UserRole
from faster_auth.schemas import UserOut
from faster_core import FasterSettings, PluginHost, PluginInfo, create_app, hookimpl
from tests.auth.app_kit import protected_router

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much better passphrase"


def accounts_app(
    tmp_path: Path,
    private_pem: str,
    *plugins: object,
    env: str = "test",
    db_url: str | None = None,
    redis: dict[str, Any] | None = None,
    **auth: Any,
) -> FastAPI:
    """db + auth (+ redis with the settings `redis`) (+ `plugins`) on a SQLite file in
    `tmp_path` (or `db_url`), with the protected test routes."""
    url = db_url or f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    plugin_settings: dict[str, Any] = {
        "db": {"url": url, "auto_migrate": True},
        "auth": {"private_key": private_pem, **auth},
    }
    builtin: list[object] = [faster_db.plugin, faster_auth.plugin]
    if redis is not None:
        import faster_redis.plugin  # optional: absent in the isolation run

        plugin_settings["redis"] = redis
        builtin.insert(1, faster_redis.plugin)
    settings = FasterSettings(_env_file=None, env=env, plugin_settings=plugin_settings)
    app = create_app(settings, plugins=[*builtin, *plugins], load_entrypoints=False)
    app.include_router(protected_router())
    return app


def services(app: FastAPI) -> AccountServices:
    found: AccountServices = app.state.auth_accounts
    return found


async def settle(app: FastAPI) -> None:
    """Wait for the background jobs and event handlers, then for the audit writer."""
    found = services(app)
    await found.events.drain()
    if found.audit is not None:
        await found.audit.flush()


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.01)


async def register(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/auth/register", json={"email": email, "password": password})


async def login(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/auth/login", json={"email": email, "password": password})


def bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def signed_in(
    client: httpx.AsyncClient, app: FastAPI, email: str, roles: tuple[str, ...] = ()
) -> tuple[str, dict[str, str]]:
    """Register `email` (with `roles`, written straight to the store) and sign in."""
    created = await register(client, email)
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    if roles:
        async with app.state.db.session_scope() as session:
            session.add_all(UserRole(user_id=uuid.UUID(user_id), role=r) for r in roles)
    response = await login(client, email)
    assert response.status_code == 200, response.text
    return user_id, bearer(response.json())


class Recorder:
    """A real plugin implementing every hook faster-auth publishes; it records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def named(self, event: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == event]

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("recorder", "1.0", after=("auth",))

    @hookimpl
    async def faster_auth_user_created(self, user: UserOut, host: PluginHost) -> None:
        assert isinstance(host, PluginHost)
        self.calls.append(("created", {"user": user}))

    @hookimpl
    async def faster_auth_user_signed_in(self, user: UserOut) -> None:
        self.calls.append(("signed_in", {"user": user}))

    @hookimpl
    def faster_auth_user_signed_out(self, user_id: uuid.UUID, everywhere: bool) -> None:
        self.calls.append(("signed_out", {"user_id": user_id, "everywhere": everywhere}))

    @hookimpl
    async def faster_auth_user_banned(self, user: UserOut, actor_id: uuid.UUID | None) -> None:
        self.calls.append(("banned", {"user": user, "actor_id": actor_id}))

    @hookimpl
    async def faster_auth_user_unbanned(self, user: UserOut, actor_id: uuid.UUID | None) -> None:
        self.calls.append(("unbanned", {"user": user, "actor_id": actor_id}))

    @hookimpl
    async def faster_auth_roles_changed(
        self, user: UserOut, previous: list[str], actor_id: uuid.UUID | None
    ) -> None:
        self.calls.append(("roles", {"user": user, "previous": previous, "actor_id": actor_id}))

    @hookimpl
    async def faster_auth_password_reset_requested(self, user: UserOut, link: str) -> None:
        self.calls.append(("reset", {"user": user, "link": link}))

    @hookimpl
    async def faster_auth_email_verification_requested(self, user: UserOut, link: str) -> None:
        self.calls.append(("verify", {"user": user, "link": link}))

    @hookimpl
    async def faster_auth_user_deactivated(self, user: UserOut) -> None:
        self.calls.append(("deactivated", {"user": user}))

    def token(self, event: str) -> str:
        """The token in the last link delivered for `event` (`reset` or `verify`)."""
        link: str = self.named(event)[-1]["link"]
        return link.partition("#token=")[2]
