"""A generic async repository over one model, on a session you own.

users = Repository(session, User)
user = await users.upsert({"email": e, "name": n}, conflict_on=["email"])
page = await users.get_many(User.name.startswith("a"), limit=50, after=last_id)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    exists,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from faster_db._upsert import upsert_statement
from faster_db.exceptions import RecordNotFoundError
from faster_db.models import SoftDelete, utcnow

__all__ = ["Repository"]

M = TypeVar("M", bound=DeclarativeBase)


class Repository(Generic[M]):
    """CRUD, pagination, soft delete and race-free upsert for `model` in `session`.

    Soft-deleted rows (models with `SoftDelete`) are left out of reads unless
    `include_deleted=True`. No method reads a row in order to decide whether to insert it.
    """

    def __init__(self, session: AsyncSession, model: type[M]) -> None:
        self.session = session
        self.model = model
        mapper = inspect(model)
        if len(mapper.primary_key) != 1:
            raise TypeError(f"Repository needs a single-column primary key; {model.__name__}")
        self._pk = mapper.primary_key[0]
        self._soft = issubclass(model, SoftDelete)

    def _select(
        self, criteria: Sequence[ColumnElement[bool]], include_deleted: bool
    ) -> Select[Any]:
        stmt = select(self.model).where(*criteria)
        if self._soft and not include_deleted:
            stmt = stmt.where(self.model.deleted_at.is_(None))  # type: ignore[attr-defined]
        return stmt

    async def get(self, key: Any, *, include_deleted: bool = False) -> M | None:
        """The row with primary key `key`, or `None`."""
        stmt = self._select([self._pk == key], include_deleted)
        return (await self.session.scalars(stmt)).one_or_none()

    async def get_or_raise(self, key: Any, *, include_deleted: bool = False) -> M:
        """The row with primary key `key`; `RecordNotFoundError` (a 404) when there is none."""
        found = await self.get(key, include_deleted=include_deleted)
        if found is None:
            raise RecordNotFoundError(f"No {self.model.__name__} with that id.")
        return found

    async def get_many(
        self,
        *criteria: ColumnElement[bool],
        limit: int = 100,
        offset: int = 0,
        after: Any = None,
        order_by: Any = None,
        include_deleted: bool = False,
    ) -> list[M]:
        """Rows matching every criterion, in `order_by` (default: primary key) order.

        Paginate with `limit`/`offset`, or by keyset with `after` (the last primary key of the
        previous page; ordered by primary key), which stays fast on deep pages.
        """
        stmt = self._select(criteria, include_deleted)
        if after is not None:
            stmt = stmt.where(self._pk > after).order_by(self._pk)
        else:
            stmt = stmt.order_by(order_by if order_by is not None else self._pk).offset(offset)
        return list((await self.session.scalars(stmt.limit(limit))).all())

    async def count(self, *criteria: ColumnElement[bool], include_deleted: bool = False) -> int:
        inner = self._select(criteria, include_deleted).subquery()
        return int(await self.session.scalar(select(func.count()).select_from(inner)) or 0)

    async def exists(self, *criteria: ColumnElement[bool], include_deleted: bool = False) -> bool:
        return bool(
            await self.session.scalar(select(exists(self._select(criteria, include_deleted))))
        )

    async def create(self, **values: Any) -> M:
        """Insert a row and flush it (constraint errors surface here, as a 409)."""
        instance = self.model(**values)
        self.session.add(instance)
        await self.session.flush()
        return instance

    async def update(self, key: Any, **values: Any) -> M:
        """Set `values` on the row with primary key `key` (404 if there is none)."""
        instance = await self.get_or_raise(key)
        for name, value in values.items():
            setattr(instance, name, value)
        await self.session.flush()
        return instance

    async def update_where(self, *criteria: ColumnElement[bool], **values: Any) -> int:
        """One UPDATE statement for every matching row; returns the number of rows changed."""
        result: Any = await self.session.execute(
            update(self.model).where(*criteria).values(**values)
        )
        return int(result.rowcount)

    async def delete(self, key: Any) -> bool:
        """Delete the row for good; whether there was one."""
        result: Any = await self.session.execute(delete(self.model).where(self._pk == key))
        return bool(result.rowcount)

    async def soft_delete(self, key: Any) -> bool:
        """Mark the row deleted; whether a live row was marked."""
        self._require_soft()
        stmt = update(self.model).where(self._pk == key, self.model.deleted_at.is_(None))  # type: ignore[attr-defined]
        result: Any = await self.session.execute(stmt.values(deleted_at=utcnow()))
        return bool(result.rowcount)

    async def restore(self, key: Any) -> bool:
        """Undo a soft delete; whether a deleted row was restored."""
        self._require_soft()
        stmt = update(self.model).where(self._pk == key, self.model.deleted_at.is_not(None))  # type: ignore[attr-defined]
        result: Any = await self.session.execute(stmt.values(deleted_at=None))
        return bool(result.rowcount)

    async def upsert(
        self,
        values: Mapping[str, Any],
        *,
        conflict_on: Sequence[str],
        update: Sequence[str] | None = None,
    ) -> M:
        """Insert or update in one statement (`INSERT ... ON CONFLICT`), returning the row.

        `conflict_on` names the columns of a unique constraint; `update` the columns to
        overwrite on conflict (default: every given column but `conflict_on`; `[]` keeps the
        existing row as it is). Safe under any concurrency: the database decides, not a read.
        """
        table: Any = self.model.__table__
        bind = self.session.sync_session.get_bind(self.model, clause=insert(table))
        stmt = upsert_statement(bind.dialect.name, table, values, conflict_on, update)
        if update is not None and not update:
            await self.session.execute(stmt)
            lookup = [table.c[name] == values[name] for name in conflict_on]
            return (await self.session.scalars(select(self.model).where(*lookup))).one()
        returning = stmt.returning(*table.c)
        orm_stmt = select(self.model).from_statement(returning)
        result = await self.session.scalars(orm_stmt, execution_options={"populate_existing": True})
        row: M = result.one()
        return row

    def _require_soft(self) -> None:
        if not self._soft:
            raise TypeError(f"{self.model.__name__} has no SoftDelete mixin")
