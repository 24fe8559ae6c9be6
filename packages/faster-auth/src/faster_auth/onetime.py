"""Single-use tokens for password resets and email verification.

A token is 256 random bits, handed out once (inside a link) and stored only as its SHA-256,
with a purpose and an expiry. It is spent by one conditional `UPDATE ... WHERE used_at IS NULL
AND expires_at > now RETURNING`, so two requests racing with the same token cannot both
succeed. Issuing a new token for a user and purpose retires the earlier unused ones: only the
latest link works.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from faster_auth.models import OneTimeToken
from faster_auth.refresh_tokens import hash_token
from faster_db import utcnow

__all__ = ["EMAIL_VERIFICATION", "PASSWORD_RESET", "OneTimeTokens", "link_with_token"]

PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a secret
EMAIL_VERIFICATION = "email_verification"


def link_with_token(url: str, token: str) -> str:
    """`url` carrying `token` in its fragment: browsers never send a fragment to any server,
    so the token stays out of access logs and `Referer` headers."""
    return f"{url}#token={token}"


class OneTimeTokens:
    """Issue and spend single-use tokens in a session's unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue(self, user_id: uuid.UUID, purpose: str, ttl: int) -> str:
        """A new token for `user_id` and `purpose`, valid `ttl` seconds; earlier ones retire."""
        now = utcnow()
        await self.session.execute(
            update(OneTimeToken)
            .where(
                OneTimeToken.user_id == user_id,
                OneTimeToken.purpose == purpose,
                OneTimeToken.used_at.is_(None),
            )
            .values(used_at=now)
        )
        token = secrets.token_urlsafe(32)
        self.session.add(
            OneTimeToken(
                token_hash=hash_token(token),
                purpose=purpose,
                user_id=user_id,
                created_at=now,
                expires_at=now + timedelta(seconds=ttl),
            )
        )
        await self.session.flush()
        return token

    async def spend(self, token: str, purpose: str) -> uuid.UUID | None:
        """The user of `token` if it is live for `purpose` (spending it), else `None`."""
        now = utcnow()
        return await self.session.scalar(
            update(OneTimeToken)
            .where(
                OneTimeToken.token_hash == hash_token(token),
                OneTimeToken.purpose == purpose,
                OneTimeToken.used_at.is_(None),
                OneTimeToken.expires_at > now,
            )
            .values(used_at=now)
            .returning(OneTimeToken.user_id)
        )
