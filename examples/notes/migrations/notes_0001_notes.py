"""Notes and their history.

Revision ID: notes_0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from faster_db import UTCDateTime

revision = "notes_0001"
down_revision: str | None = None
branch_labels = ("notes",)
depends_on: str | None = None


def _id() -> sa.Column[int]:
    # BIGINT (a sequence) on PostgreSQL; INTEGER on SQLite, which makes it the rowid.
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def upgrade() -> None:
    op.create_table(
        "notes",
        _id(),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(op.f("ix_notes_owner"), "notes", ["owner"])
    op.create_table(
        "note_events",
        _id(),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_events")),
    )
    op.create_index(op.f("ix_note_events_owner"), "note_events", ["owner"])


def downgrade() -> None:
    op.drop_table("note_events")
    op.drop_table("notes")
