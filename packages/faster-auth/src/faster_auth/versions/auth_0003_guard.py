"""Revocations, login counters and permissions.

Revoked access tokens (by `jti`, kept until they expire) and failed sign-ins counted per account
and per IP: the stores used when the redis plugin is off. Permissions live in faster-db's
config store and need no table of their own.

Revision ID: auth_0003
Revises: auth_0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from faster_db import UTCDateTime

revision = "auth_0003"
down_revision: str | None = "auth_0002"
branch_labels: tuple[str, ...] | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "faster_auth_revoked_tokens",
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_faster_auth_revoked_tokens")),
    )
    op.create_index(
        op.f("ix_faster_auth_revoked_tokens_expires_at"),
        "faster_auth_revoked_tokens",
        ["expires_at"],
    )
    op.create_table(
        "faster_auth_sign_in_failures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faster_auth_sign_in_failures")),
    )
    op.create_index(
        op.f("ix_faster_auth_sign_in_failures_key"),
        "faster_auth_sign_in_failures",
        ["key", "failed_at"],
    )


def downgrade() -> None:
    op.drop_table("faster_auth_sign_in_failures")
    op.drop_table("faster_auth_revoked_tokens")
