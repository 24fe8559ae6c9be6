"""A declarative base with constraint naming conventions, key and timestamp/soft-delete mixins.

class User(Base, UUIDPrimaryKey, Timestamps, SoftDelete):
    __tablename__ = "users"
    email: Mapped[str] = mapped_column(String(320), unique=True)

select(User).where(User.not_deleted())
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, DateTime, Dialect, Integer, MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "IntPrimaryKey",
    "SoftDelete",
    "Timestamps",
    "UTCDateTime",
    "UUIDPrimaryKey",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so that migrations can drop and alter them by name."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite stores it naive, as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of your models; its metadata names constraints by convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime(), uuid.UUID: Uuid()}  # noqa: RUF012


class UUIDPrimaryKey:
    """`id`: a UUID (version 4) made by the application, so it is known before the INSERT."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)


class IntPrimaryKey:
    """`id`: an auto-incrementing integer (BIGINT; INTEGER on SQLite, which autoincrements it)."""

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


class Timestamps:
    """`created_at` set on insert, `updated_at` set on insert and on every UPDATE.

    ORM flushes, `update()` statements and `Repository.upsert()` all refresh `updated_at`.
    """

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class SoftDelete:
    """`deleted_at`: set instead of deleting the row; query helpers to include or exclude it."""

    @declared_attr
    def deleted_at(cls) -> Mapped[datetime | None]:  # noqa: N805 - declared_attr takes the class
        return mapped_column(UTCDateTime(), nullable=True, index=True)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def soft_delete(self) -> None:
        self.deleted_at = utcnow()

    def restore(self) -> None:
        self.deleted_at = None

    @classmethod
    def not_deleted(cls) -> ColumnElement[bool]:
        """WHERE criterion for rows that are not soft-deleted."""
        return cls.deleted_at.is_(None)

    @classmethod
    def only_deleted(cls) -> ColumnElement[bool]:
        """WHERE criterion for soft-deleted rows only."""
        return cls.deleted_at.is_not(None)
