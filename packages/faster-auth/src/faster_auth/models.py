"""faster-auth's tables: users, their roles and refresh tokens (migrations in `versions/`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, MetaData, String, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from faster_db import NAMING_CONVENTION, Timestamps, UTCDateTime, UUIDPrimaryKey

__all__ = [
    "AuditEvent",
    "AuthBase",
    "OneTimeToken",
    "RefreshToken",
    "RevokedToken",
    "SignInFailure",
    "User",
    "UserRole",
    "UserStatus",
    "auth_metadata",
]


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


# Account flows and the audit trail (auth-accounts).
class OneTimeToken(AuthBase, UUIDPrimaryKey):
    """A single-use token (password reset, email verification), stored as its SHA-256."""

    __tablename__ = "faster_auth_one_time_tokens"
    __table_args__ = (Index(None, "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("faster_auth_users.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AuditEvent(AuthBase, UUIDPrimaryKey):
    """One security-relevant event; no foreign key, so the trail outlives deleted users."""

    __tablename__ = "faster_auth_audit_events"
    __table_args__ = (Index(None, "user_id", "occurred_at"), Index(None, "occurred_at"))

    occurred_at: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(50))
    outcome: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[uuid.UUID | None]
    actor_id: Mapped[uuid.UUID | None]
    request_id: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)


# Revocations and sign-in limits (auth-guard), used when the redis plugin is off.
class RevokedToken(AuthBase):
    """An access token revoked by its `jti`, kept until the token itself expires."""

    __tablename__ = "faster_auth_revoked_tokens"
    __table_args__ = (Index(None, "expires_at"),)

    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime]


class SignInFailure(AuthBase, UUIDPrimaryKey):
    """One failed sign-in (or password-reset request) counted against an account or an IP."""

    __tablename__ = "faster_auth_sign_in_failures"
    __table_args__ = (Index(None, "key", "failed_at"),)

    key: Mapped[str] = mapped_column(String(200))
    failed_at: Mapped[datetime]


def auth_metadata() -> MetaData:
    return AuthBase.metadata
