"""Models and the generic repository: timestamps that update, soft delete, pagination, upsert
(faster_db/models.py, faster_db/repository.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from faster_db import Database, DBSettings, RecordNotFoundError, Repository
from faster_db.models import NAMING_CONVENTION, Base
from tests.db.app_kit import Account, Document, create_schema

pytestmark = pytest.mark.anyio


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    database = Database(DBSettings(_env_file=None, url=db_url))
    await create_schema(database)
    try:
        yield database
    finally:
        await database.dispose()


def test_constraints_are_named_by_convention() -> None:
    assert Base.metadata.naming_convention == NAMING_CONVENTION
    table = Base.metadata.tables["test_accounts"]
    names = {c.name for c in table.constraints}
    assert {"pk_test_accounts", "uq_test_accounts_key"} <= names


async def test_timestamps_are_utc_and_updated_at_really_updates(database: Database) -> None:
    async with database.session_scope() as session:
        account = await Repository(session, Account).create(key="t")
    created, first_update = account.created_at, account.updated_at
    assert created.tzinfo is UTC
    await asyncio.sleep(0.01)
    async with database.session_scope() as session:
        account = await Repository(session, Account).update(account.id, name="renamed")
    assert account.updated_at > first_update
    assert account.created_at == created
    await asyncio.sleep(0.01)
    async with database.session_scope() as session:
        await session.execute(update(Account).where(Account.id == account.id).values(name="x"))
        via_statement = await Repository(session, Account).get_or_raise(account.id)
        await session.refresh(via_statement)
    assert via_statement.updated_at > account.updated_at


async def test_upsert_inserts_then_updates_the_same_row_and_refreshes_updated_at(
    database: Database,
) -> None:
    async with database.session_scope() as session:
        first = await Repository(session, Account).upsert(
            {"key": "u", "name": "one"}, conflict_on=["key"]
        )
    await asyncio.sleep(0.01)
    async with database.session_scope() as session:
        accounts = Repository(session, Account)
        second = await accounts.upsert({"key": "u", "name": "two"}, conflict_on=["key"])
        kept = await accounts.upsert({"key": "u", "name": "three"}, conflict_on=["key"], update=[])
        assert await accounts.count() == 1
    assert second.id == first.id
    assert second.name == "two"
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    assert kept.name == "two"


async def test_soft_delete_hides_rows_until_restored(database: Database) -> None:
    async with database.session_scope() as session:
        documents = Repository(session, Document)
        kept = await documents.create(title="kept")
        gone = await documents.create(title="gone")
        assert isinstance(gone.id, uuid.UUID)
        assert await documents.soft_delete(gone.id) is True
        assert await documents.soft_delete(gone.id) is False
        assert await documents.get(gone.id) is None
        assert (await documents.get(gone.id, include_deleted=True)) is not None
        assert [d.title for d in await documents.get_many()] == ["kept"]
        assert await documents.count() == 1
        assert await documents.count(include_deleted=True) == 2
        deleted = await session.scalars(select(Document).where(Document.only_deleted()))
        assert [d.title for d in deleted] == ["gone"]
        live = await session.scalars(select(Document).where(Document.not_deleted()))
        assert [d.id for d in live] == [kept.id]
        assert await documents.restore(gone.id) is True
        assert await documents.count() == 2


async def test_pagination_by_offset_and_by_keyset(database: Database) -> None:
    async with database.session_scope() as session:
        accounts = Repository(session, Account)
        for index in range(7):
            await accounts.create(key=f"k{index}")
        first = await accounts.get_many(limit=3)
        second = await accounts.get_many(limit=3, after=first[-1].id)
        third = await accounts.get_many(limit=3, offset=6)
        filtered = await accounts.get_many(Account.key.in_(["k1", "k5"]))
        assert [a.key for a in first] == ["k0", "k1", "k2"]
        assert [a.key for a in second] == ["k3", "k4", "k5"]
        assert [a.key for a in third] == ["k6"]
        assert [a.key for a in filtered] == ["k1", "k5"]
        assert await accounts.exists(Account.key == "k3") is True
        assert await accounts.exists(Account.key == "zz") is False
        assert await accounts.update_where(Account.key.in_(["k1", "k2"]), name="n") == 2
        assert await accounts.delete(first[0].id) is True
        assert await accounts.count() == 6


async def test_missing_rows_raise_a_404_problem(database: Database) -> None:
    async with database.session_scope() as session:
        with pytest.raises(RecordNotFoundError) as caught:
            await Repository(session, Account).get_or_raise(404)
    assert caught.value.status == 404


def test_naive_datetimes_are_refused() -> None:
    from faster_db import UTCDateTime

    with pytest.raises(ValueError, match="timezone-aware"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), None)  # type: ignore[arg-type]
