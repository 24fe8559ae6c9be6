"""A key/value configuration store: categories of key -> value, where a value may be a list.

Runtime-editable settings other plugins (and apps) share: every read goes to the database, so
a change made by one worker is seen by every other at once, with no restart and no cache to
invalidate. Writes are upserts, so concurrent writers never collide.

    store = ConfigStore(session)
    await store.set("signup", "allowed_domains", ["example.com"])
    domains = await store.get_list("signup", "allowed_domains")
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, MetaData, String, UniqueConstraint, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from faster_db.models import NAMING_CONVENTION, IntPrimaryKey, Timestamps
from faster_db.repository import Repository

__all__ = ["ConfigEntry", "ConfigStore", "config_metadata"]


class _ConfigBase(DeclarativeBase):
    # Its own metadata: autogenerating an app's migrations must not pick up this table.
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ConfigEntry(_ConfigBase, IntPrimaryKey, Timestamps):
    """One `(category, key)` and its JSON value."""

    __tablename__ = "faster_config_entries"
    __table_args__ = (UniqueConstraint("category", "key"),)

    category: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[Any] = mapped_column(JSON())


def config_metadata() -> MetaData:
    return _ConfigBase.metadata


class ConfigStore:
    """Read and write configuration entries in `session`'s unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._entries = Repository(session, ConfigEntry)

    async def get(self, category: str, key: str, default: Any = None) -> Any:
        value = await self.session.scalar(
            select(ConfigEntry.value).where(
                ConfigEntry.category == category, ConfigEntry.key == key
            )
        )
        return default if value is None else value

    async def get_list(self, category: str, key: str) -> list[Any]:
        """The list stored under `key` (a scalar becomes a one-item list; nothing, `[]`)."""
        value = await self.get(category, key)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    async def set(self, category: str, key: str, value: Any) -> None:
        """Store `value` (anything JSON can hold) under `(category, key)`, replacing any."""
        await self._entries.upsert(
            {"category": category, "key": key, "value": value},
            conflict_on=["category", "key"],
        )

    async def delete(self, category: str, key: str) -> bool:
        result: Any = await self.session.execute(
            delete(ConfigEntry).where(ConfigEntry.category == category, ConfigEntry.key == key)
        )
        return bool(result.rowcount)

    async def category(self, category: str) -> dict[str, Any]:
        """Every key of `category` with its value."""
        rows = await self.session.execute(
            select(ConfigEntry.key, ConfigEntry.value)
            .where(ConfigEntry.category == category)
            .order_by(ConfigEntry.key)
        )
        return {row[0]: row[1] for row in rows}

    async def categories(self) -> list[str]:
        rows = await self.session.scalars(
            select(ConfigEntry.category).distinct().order_by(ConfigEntry.category)
        )
        return list(rows)
