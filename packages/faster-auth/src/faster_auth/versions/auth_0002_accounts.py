"""Account flows: one-time tokens and the audit trail.

Single-use tokens (password reset, email verification) stored as SHA-256, and the audit events
written off the request path. Audit events carry no foreign key: the trail outlives a deleted user.

Revision ID: auth_0002
Revises: auth_0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from faster_db import UTCDateTime

revision = "auth_0002"
down_revision: str | None = "auth_0001"
branch_labels: tuple[str, ...] | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "faster_auth_one_time_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(30), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["faster_auth_users.id"],
            name=op.f("fk_faster_auth_one_time_tokens_user_id_faster_auth_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faster_auth_one_time_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_faster_auth_one_time_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_faster_auth_one_time_tokens_user_id"), "faster_auth_one_time_tokens", ["user_id"]
    )
    op.create_table(
        "faster_auth_audit_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("user_agent", sa.String(256), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faster_auth_audit_events")),
    )
    op.create_index(
        op.f("ix_faster_auth_audit_events_user_id"),
        "faster_auth_audit_events",
        ["user_id", "occurred_at"],
    )
    op.create_index(
        op.f("ix_faster_auth_audit_events_occurred_at"),
        "faster_auth_audit_events",
        ["occurred_at"],
    )


def downgrade() -> None:
    op.drop_table("faster_auth_audit_events")
    op.drop_table("faster_auth_one_time_tokens")
