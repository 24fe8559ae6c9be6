"""faster-auth's tables: users, their roles and refresh tokens (migrations in `versions/`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, MetaData, String, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from faster_db import NAMING_CONVENTION, Timestamps, UTCDateTime, UUIDPrimaryKey

__all__ = ["AuthBase", "RefreshToken", "User", "UserRole", "UserStatus", "auth_metadata"]


class UserStatus:
    ACTIVE = "active"
    BANNED = "banned"
    DEACTIVATED = "deactivated"


class AuthBase(DeclarativeBase):
    # Its own metadata: autogenerating an app's migrations must not pick up these tables.
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime(), uuid.UUID: Uuid()}  # noqa: RUF012


class User(AuthBase, UUIDPrimaryKey, Timestamps):
    """A person known to this app: `(issuer, subject)` identifies them across providers."""

    __tablename__ = "faster_auth_users"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        UniqueConstraint("issuer", "email"),
    )

    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default=UserStatus.ACTIVE)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    last_sign_in_at: Mapped[datetime | None]
    # Access tokens issued before this instant are refused (ban, logout everywhere).
    tokens_valid_after: Mapped[datetime | None]


class UserRole(AuthBase):
    """One role held by one user."""

    __tablename__ = "faster_auth_user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("faster_auth_users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(100), primary_key=True)


class RefreshToken(AuthBase, UUIDPrimaryKey):
    """An opaque refresh token, stored as its SHA-256; each use rotates it within its family."""

    __tablename__ = "faster_auth_refresh_tokens"
    __table_args__ = (Index(None, "family_id"), Index(None, "user_id"))

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("faster_auth_users.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


def auth_metadata() -> MetaData:
    return AuthBase.metadata
