"""Revocations, login counters and permissions.

Revision ID: auth_0003
Revises: auth_0002
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "auth_0003"
down_revision: str | None = "auth_0002"
branch_labels: tuple[str, ...] | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
