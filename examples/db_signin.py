"""Sign-ins with faster-db: a race-free upsert, a background task with its own session.

    hatch run demo:serve examples.db_signin:create_example_app --factory

    curl -X POST http://127.0.0.1:8000/signin/ada@example.com
    curl http://127.0.0.1:8000/members/1/visits

On SQLite in development the plugin applies its own migrations at start-up; this example's
tables are created by its lifespan (a real app ships Alembic migrations through the
`faster_db_migrations` hook).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from faster_core import PluginHost, PluginInfo, PluginLifespan, hookimpl
from faster_db import (
    Base,
    Database,
    DBSession,
    DBTasks,
    IntPrimaryKey,
    ReadOnlyDBSession,
    Repository,
    Timestamps,
)


class Member(Base, IntPrimaryKey, Timestamps):
    __tablename__ = "example_members"

    email: Mapped[str] = mapped_column(String(320), unique=True)


class Visit(Base, IntPrimaryKey, Timestamps):
    __tablename__ = "example_visits"

    member_id: Mapped[int] = mapped_column(ForeignKey("example_members.id"))


async def record_visit(session: AsyncSession, member_id: int) -> None:
    """Runs after the response, in a session of its own."""
    session.add(Visit(member_id=member_id))


router = APIRouter()


@router.post("/signin/{email}")
async def sign_in(email: str, session: DBSession, tasks: DBTasks) -> dict[str, int]:
    member = await Repository(session, Member).upsert({"email": email}, conflict_on=["email"])
    tasks.run_in_background(record_visit, member.id)  # the id, never the ORM object
    return {"member_id": member.id}


@router.get("/members/{member_id}/visits")
async def visits(member_id: int, session: ReadOnlyDBSession) -> dict[str, int]:
    member = await Repository(session, Member).get_or_raise(member_id)  # 404 problem if absent
    count = await session.scalar(select(func.count()).where(Visit.member_id == member.id))
    return {"member_id": member.id, "visits": count or 0}


class SignInExample:
    """The example as a plugin: its routes, and its tables created at start-up."""

    @hookimpl
    def faster_plugin_info(self) -> PluginInfo:
        return PluginInfo("signin_example", requires=("db",))

    @hookimpl
    def faster_routers(self) -> Iterable[APIRouter]:
        return [router]

    @hookimpl
    def faster_lifespan(self, host: PluginHost) -> PluginLifespan:
        @asynccontextmanager
        async def create_tables(app: FastAPI) -> AsyncIterator[None]:
            database: Database = app.state.db
            async with database.primary.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            yield

        return create_tables


def create_example_app() -> FastAPI:
    from faster_core import create_app  # noqa: PLC0415 - built on demand, not at import

    return create_app(plugins=[SignInExample()])
