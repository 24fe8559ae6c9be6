"""Routing sessions: replicas for read-only units, the primary from the first write on,
units of work outside requests (faster_db/session.py, faster_db/database.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import pytest
from sqlalchemy import String, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from faster_core.testing import client_for
from faster_db import (
    Base,
    Database,
    DBSession,
    DBSettings,
    IntPrimaryKey,
    ReadOnlyDBSession,
    RecordConflictError,
    SessionMisuseError,
)
from faster_db.session import LazySession, RoutingSession, has_work, in_transaction, retire
from tests.db.app_kit import Account, create_schema, make_app

pytestmark = pytest.mark.anyio


class Marker(Base, IntPrimaryKey):
    __tablename__ = "test_markers"

    name: Mapped[str] = mapped_column(String(50))


async def seeded(url: str, name: str) -> None:
    database = Database(DBSettings(_env_file=None, url=url))
    try:
        await create_schema(database)
        async with database.session_scope() as session:
            session.add(Marker(name=name))
    finally:
        await database.dispose()


@pytest.fixture
async def replicated(tmp_path: Path) -> Database:
    primary = f"sqlite+aiosqlite:///{tmp_path / 'primary.db'}"
    replica = f"sqlite+aiosqlite:///{tmp_path / 'replica.db'}"
    await seeded(primary, "primary")
    await seeded(replica, "replica")
    return Database(DBSettings(_env_file=None, url=primary, replica_urls=replica))


async def markers(session: object) -> list[str]:
    return list(await session.scalars(select(Marker.name)))  # type: ignore[attr-defined]


async def test_read_only_units_read_from_the_replica(replicated: Database) -> None:
    try:
        async with replicated.session_scope(readonly=True) as session:
            assert await markers(session) == ["replica"]
        async with replicated.session_scope() as session:
            assert await markers(session) == ["primary"]
    finally:
        await replicated.dispose()


async def test_a_read_only_unit_writes_to_the_primary_and_then_reads_its_writes(
    replicated: Database,
) -> None:
    try:
        async with replicated.session_scope(readonly=True) as session:
            assert await markers(session) == ["replica"]
            session.add(Marker(name="written"))
            await session.flush()
            assert sorted(await markers(session)) == ["primary", "written"]
        async with replicated.session_scope() as session:
            assert sorted(await markers(session)) == ["primary", "written"]
    finally:
        await replicated.dispose()


async def test_read_only_dependency_uses_the_replica_through_the_app(tmp_path: Path) -> None:
    primary = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    replica = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    await seeded(primary, "primary")
    await seeded(replica, "replica")
    app, _ = make_app(primary, replica_urls=[replica])
    async with client_for(app) as client:
        assert (await client.post("/signin/x")).status_code == 200
        # /count reads with ReadOnlyDBSession, /count-readonly-call with DBSession(readonly=True):
        # the replica has no account yet; the primary has the new one.
        assert (await client.get("/count")).json()["accounts"] == 0
        assert (await client.get("/count-readonly-call")).json()["accounts"] == 0
        assert (await client.get("/count-primary")).json()["accounts"] == 1
        assert (
            (await client.get("/health")).json()["checks"][0]["detail"].endswith("1 replica(s) up")
        )


async def add_account(database: Database, key: str, *, fail: bool = False) -> None:
    async with database.session_scope() as session:
        session.add(Account(key=key))
        await session.flush()
        if fail:
            raise RuntimeError("stop")


async def add_in_savepoint(database: Database, session: AsyncSession, key: str) -> None:
    async with database.transaction(session):
        session.add(Account(key=key))
        await session.flush()
        raise RuntimeError("undo the inner block only")


async def test_session_scope_commits_on_success_and_rolls_back_on_error(db_url: str) -> None:
    database = Database(DBSettings(_env_file=None, url=db_url))
    try:
        await create_schema(database)
        async with database.session_scope() as session:
            session.add(Account(key="kept"))
        with pytest.raises(RuntimeError):
            await add_account(database, "dropped", fail=True)
        with pytest.raises(RecordConflictError) as caught:
            await add_account(database, "kept")
        assert caught.value.__cause__ is not None
        assert type(caught.value.__cause__).__name__ == "IntegrityError"
        async with database.session_scope() as session:
            assert list(await session.scalars(select(Account.key))) == ["kept"]
        with pytest.raises(SessionMisuseError, match="unit of work has ended"):
            await session.execute(text("SELECT 1"))
    finally:
        await database.dispose()


async def test_transaction_in_a_session_is_a_savepoint(db_url: str) -> None:
    database = Database(DBSettings(_env_file=None, url=db_url))
    try:
        await create_schema(database)
        async with database.session_scope() as session:
            session.add(Account(key="outer"))
            with pytest.raises(RuntimeError):
                await add_in_savepoint(database, session, "inner")
            async with database.transaction(session):
                session.add(Account(key="inner-kept"))
        async with database.transaction() as own:
            keys = sorted(await own.scalars(select(Account.key)))
        assert keys == ["inner-kept", "outer"]
    finally:
        await database.dispose()


async def test_run_in_background_uses_its_own_session_and_refuses_bound_objects(
    db_url: str,
) -> None:
    database = Database(DBSettings(_env_file=None, url=db_url))
    try:
        await create_schema(database)

        async def add(session: object, key: str) -> None:
            session.add(Account(key=key))  # type: ignore[attr-defined]

        await database.run_in_background(add, "from-task")
        async with database.session_scope() as session:
            account = (await session.scalars(select(Account))).one()
            with pytest.raises(SessionMisuseError, match="attached to a session"):
                database.run_in_background(add, account)  # type: ignore[arg-type]
            with pytest.raises(SessionMisuseError, match="is a session"):
                database.run_in_background(add, session)  # type: ignore[arg-type]
            with pytest.raises(SessionMisuseError, match="attached to a session"):
                database.run_in_background(add, [account])  # type: ignore[arg-type]
            assert await session.scalar(select(func.count()).select_from(Account)) == 1
    finally:
        await database.dispose()


def test_db_session_called_with_readonly_is_the_read_only_annotation() -> None:
    # Type checkers take a call of an Annotated alias for a call of AsyncSession: hence Any.
    call: Any = DBSession
    assert call(readonly=True) is ReadOnlyDBSession
    assert call(readonly=False) is DBSession
    assert call() is DBSession
    assert get_origin(DBSession) is Annotated
    assert get_args(DBSession)[0] is AsyncSession


async def test_a_lazy_session_is_built_on_first_use_and_refused_once_retired(
    sqlite_url: str,
) -> None:
    database = Database(DBSettings(_env_file=None, url=sqlite_url))
    try:
        await create_schema(database)
        session = LazySession(None, database, False, True)
        assert isinstance(session, AsyncSession)
        assert "sync_session" not in vars(session)
        assert not has_work(session)
        assert not in_transaction(session)
        session.add(Account(key="lazy"))
        assert isinstance(session.sync_session, RoutingSession)
        assert has_work(session)
        await session.commit()
        await session.close()
        retire(session, "over")
        with pytest.raises(SessionMisuseError, match="over"):
            await session.execute(text("SELECT 1"))

        never_used = LazySession(None, database, True, False)
        retire(never_used, "ended before first use")
        with pytest.raises(SessionMisuseError, match="ended before first use"):
            await never_used.scalar(select(func.count()).select_from(Account))
        assert "sync_session" not in vars(never_used)
        with pytest.raises(AttributeError, match="no_such_attribute"):
            never_used.no_such_attribute  # noqa: B018
        async with database.session_scope() as check:
            assert list(await check.scalars(select(Account.key))) == ["lazy"]
    finally:
        await database.dispose()
