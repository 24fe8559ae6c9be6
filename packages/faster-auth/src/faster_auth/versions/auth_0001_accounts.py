"""Local accounts: users, roles and refresh tokens.

Revision ID: auth_0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from faster_db import UTCDateTime

revision = "auth_0001"
down_revision: str | None = None
branch_labels = ("auth",)
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "faster_auth_users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("last_sign_in_at", UTCDateTime(), nullable=True),
        sa.Column("tokens_valid_after", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faster_auth_users")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_faster_auth_users_issuer_subject")),
        sa.UniqueConstraint("issuer", "email", name=op.f("uq_faster_auth_users_issuer_email")),
    )
    op.create_table(
        "faster_auth_user_roles",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["faster_auth_users.id"],
            name=op.f("fk_faster_auth_user_roles_user_id_faster_auth_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_faster_auth_user_roles")),
    )
    op.create_table(
        "faster_auth_refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["faster_auth_users.id"],
            name=op.f("fk_faster_auth_refresh_tokens_user_id_faster_auth_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faster_auth_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_faster_auth_refresh_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_faster_auth_refresh_tokens_family_id"), "faster_auth_refresh_tokens", ["family_id"]
    )
    op.create_index(
        op.f("ix_faster_auth_refresh_tokens_user_id"), "faster_auth_refresh_tokens", ["user_id"]
    )


def downgrade() -> None:
    op.drop_table("faster_auth_refresh_tokens")
    op.drop_table("faster_auth_user_roles")
    op.drop_table("faster_auth_users")
