"""A small app for the tests: accounts signing in, written the right way and the naive way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, BackgroundTasks, FastAPI, HTTPException
from sqlalchemy import ForeignKey, String, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

import faster_db.plugin
from faster_core import FasterSettings, PluginInfo, create_app, hookimpl
from faster_core.settings import Environment
from faster_db import (
    Base,
    Database,
    DBSession,
    DBTasks,
    IntPrimaryKey,
    ReadOnlyDBSession,
    Repository,
    SoftDelete,
    Timestamps,
    UUIDPrimaryKey,
)


class Account(Base, IntPrimaryKey, Timestamps):
    __tablename__ = "test_accounts"

    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str | None] = mapped_column(String(100), default=None)


class SignIn(Base, IntPrimaryKey):
    __tablename__ = "test_sign_ins"

    account_id: Mapped[int] = mapped_column(ForeignKey("test_accounts.id"))
    note: Mapped[str] = mapped_column(String(100), default="")


class Document(Base, UUIDPrimaryKey, Timestamps, SoftDelete):
    __tablename__ = "test_documents"

    title: Mapped[str] = mapped_column(String(100))


async def create_schema(database: Database) -> None:
    async with database.primary.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


class Journal:
    """What the routes saw, for the tests to inspect."""

    def __init__(self) -> None:
        self.sessions: list[AsyncSession] = []
        self.background: list[dict[str, Any]] = []


async def counts(session: AsyncSession) -> dict[str, int]:
    accounts = await session.scalar(select(func.count()).select_from(Account))
    sign_ins = await session.scalar(select(func.count()).select_from(SignIn))
    return {"accounts": accounts or 0, "sign_ins": sign_ins or 0}


async def record_sign_in(session: AsyncSession, account_id: int, note: str) -> None:
    session.add(SignIn(account_id=account_id, note=note))


def routes(journal: Journal) -> APIRouter:  # noqa: C901 - one small route per behaviour
    router = APIRouter()

    @router.post("/signin/{key}")
    async def sign_in(key: str, session: DBSession) -> dict[str, int]:
        account = await Repository(session, Account).upsert({"key": key}, conflict_on=["key"])
        session.add(SignIn(account_id=account.id))
        return {"id": account.id}

    @router.post("/naive/{key}")
    async def naive_sign_in(key: str, session: DBSession) -> dict[str, int]:
        account = await session.scalar(select(Account).where(Account.key == key))
        if account is None:
            account = Account(key=key)
            session.add(account)
            await session.flush()
        session.add(SignIn(account_id=account.id))
        return {"id": account.id}

    @router.get("/accounts/{account_id}")
    async def get_account(account_id: int, session: DBSession) -> dict[str, Any]:
        account = await Repository(session, Account).get_or_raise(account_id)
        return {"id": account.id, "key": account.key}

    @router.post("/accounts/{key}/fail")
    async def write_then_fail(key: str, session: DBSession) -> None:
        session.add(Account(key=key))
        await session.flush()
        raise HTTPException(400, "refused after writing")

    @router.post("/accounts/{key}/crash")
    async def write_then_crash(key: str, session: DBSession) -> None:
        session.add(Account(key=key))
        await session.flush()
        raise RuntimeError("boom")

    @router.post("/accounts/{key}/duplicate")
    async def duplicate(key: str, session: DBSession) -> None:
        session.add(Account(key=key))  # flushed only at commit: the conflict surfaces there
        journal.sessions.append(session)

    @router.get("/unused")
    async def unused(session: DBSession) -> dict[str, bool]:
        journal.sessions.append(session)
        return {"ok": True}

    lazy_session_routes(router, journal)

    @router.post("/background/{key}")
    async def with_background(key: str, session: DBSession, tasks: DBTasks) -> dict[str, int]:
        account = await Repository(session, Account).create(key=key)
        journal.sessions.append(session)
        tasks.run_in_background(background_write, account.id, journal)
        return {"id": account.id}

    async def background_write(bg: AsyncSession, account_id: int, journal: Journal) -> None:
        request_session = journal.sessions[-1]
        error: str | None = None
        try:
            await request_session.execute(text("SELECT 1"))
        except Exception as exc:
            error = type(exc).__name__
        bg.add(SignIn(account_id=account_id, note="from background"))
        journal.background.append(
            {"own_session": bg is not request_session, "request_session_error": error}
        )

    @router.post("/background-bound/{key}")
    async def background_bound(key: str, session: DBSession, tasks: DBTasks) -> None:
        account = await Repository(session, Account).create(key=key)
        tasks.run_in_background(record_sign_in, account, "bound")  # type: ignore[arg-type]

    @router.get("/slow")
    async def slow(session: DBSession) -> dict[str, bool]:
        await session.execute(text("SELECT 1"))
        await asyncio.sleep(2.0)
        return {"ok": True}

    @router.get("/count")
    async def count(session: ReadOnlyDBSession) -> dict[str, int]:
        return await counts(session)

    return router


def lazy_session_routes(router: APIRouter, journal: Journal) -> None:
    """Routes for sessions built on first use and for the `DBSession(readonly=True)` spelling."""

    @router.get("/unused-then-background")
    async def unused_then_background(session: DBSession, tasks: BackgroundTasks) -> dict[str, bool]:
        # Starlette's own tasks: no guard at scheduling, so the session itself reaches the task.
        tasks.add_task(first_use_after_response, session)
        return {"ok": True}

    async def first_use_after_response(session: AsyncSession) -> None:
        try:
            await session.execute(text("SELECT 1"))
        except Exception as exc:
            journal.background.append({"request_session_error": type(exc).__name__})
        else:
            journal.background.append({"request_session_error": None})

    @router.get("/count-readonly-call")
    async def count_readonly_call(
        session: DBSession(readonly=True),  # type: ignore[valid-type]
    ) -> dict[str, int]:
        return await counts(session)

    @router.get("/count-primary")
    async def count_primary(session: DBSession) -> dict[str, int]:
        return await counts(session)


class RoutesPlugin:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("routes", requires=("db",))

    @hookimpl
    def faster_routers(self) -> Iterable[APIRouter]:
        return [routes(self.journal)]


def make_app(
    url: str, *extra: object, journal: Journal | None = None, **db: Any
) -> tuple[FastAPI, Journal]:
    """An app with the db plugin on `url` (`db` overrides FASTER_DB_*) and the test routes."""
    journal = journal or Journal()
    settings = FasterSettings(
        _env_file=None,
        env=Environment.TEST,
        plugin_settings={"db": {"url": url, **db}},
    )
    app = create_app(
        settings, plugins=[faster_db.plugin, RoutesPlugin(journal), *extra], load_entrypoints=False
    )
    return app, journal


async def schema_on(app: FastAPI) -> None:
    await create_schema(app.state.db)
