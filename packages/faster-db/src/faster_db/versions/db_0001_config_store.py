"""The configuration store (faster_config_entries).

Revision ID: db_0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from faster_db.models import UTCDateTime

revision = "db_0001"
down_revision: str | None = None
branch_labels = ("db",)
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "faster_config_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faster_config_entries")),
        sa.UniqueConstraint("category", "key", name=op.f("uq_faster_config_entries_category_key")),
    )


def downgrade() -> None:
    op.drop_table("faster_config_entries")
