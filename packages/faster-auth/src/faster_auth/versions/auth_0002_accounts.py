"""Account flows: one-time tokens and the audit trail.

Revision ID: auth_0002
Revises: auth_0001
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "auth_0002"
down_revision: str | None = "auth_0001"
branch_labels: tuple[str, ...] | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
