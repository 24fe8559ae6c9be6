"""Opaque refresh tokens: stored as SHA-256, rotated on every use, reuse revokes the family.

A refresh token is spent by one conditional UPDATE (`... WHERE used_at IS NULL ... RETURNING`),
so two requests racing with the same token cannot both succeed. A token presented after it was
spent is a stolen copy (or a thief racing the owner): the whole family is revoked at once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from faster_auth.models import RefreshToken
from faster_db import utcnow

__all__ = ["RefreshOutcome", "RefreshTokens", "hash_token"]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class RefreshOutcome:
    """A spent token's user and family; `reused` when it had been spent or revoked before."""

    user_id: uuid.UUID | None
    family_id: uuid.UUID | None
    reused: bool = False


class RefreshTokens:
    """Issue, spend and revoke refresh tokens in a session's unit of work."""

    def __init__(self, session: AsyncSession, ttl: int) -> None:
        self.session = session
        self.ttl = timedelta(seconds=ttl)

    async def issue(self, user_id: uuid.UUID, family_id: uuid.UUID | None = None) -> str:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        self.session.add(
            RefreshToken(
                token_hash=hash_token(token),
                family_id=family_id or uuid.uuid4(),
                user_id=user_id,
                created_at=now,
                expires_at=now + self.ttl,
            )
        )
        await self.session.flush()
        return token

    async def spend(self, token: str) -> RefreshOutcome:
        """Mark `token` used if it is live; report its family, or that it was reused."""
        now = utcnow()
        token_hash = hash_token(token)
        spent = (
            await self.session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.token_hash == token_hash,
                    RefreshToken.used_at.is_(None),
                    RefreshToken.revoked_at.is_(None),
                    RefreshToken.expires_at > now,
                )
                .values(used_at=now)
                .returning(RefreshToken.user_id, RefreshToken.family_id)
            )
        ).first()
        if spent is not None:
            return RefreshOutcome(spent.user_id, spent.family_id)
        known = (
            await self.session.execute(
                select(RefreshToken.family_id, RefreshToken.used_at, RefreshToken.revoked_at).where(
                    RefreshToken.token_hash == token_hash
                )
            )
        ).first()
        if known is None:
            return RefreshOutcome(None, None)
        reused = known.used_at is not None or known.revoked_at is not None
        return RefreshOutcome(None, known.family_id, reused=reused)

    async def revoke_family(self, family_id: uuid.UUID, when: datetime | None = None) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=when or utcnow())
        )
