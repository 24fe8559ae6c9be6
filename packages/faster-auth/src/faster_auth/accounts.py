"""Local accounts: register, sign in, refresh and sign out, each in its own unit of work.

Password hashing runs outside any database transaction: on SQLite a write transaction holds the
database's one write lock, and argon2 takes a quarter of a second by design.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from faster_auth.auth import Auth
from faster_auth.exceptions import (
    EmailTakenError,
    InvalidCredentialsError,
    InvalidTokenError,
    WeakPasswordError,
)
from faster_auth.models import RefreshToken, User, UserRole, UserStatus
from faster_auth.refresh_tokens import RefreshTokens
from faster_auth.schemas import Credentials, Registration, TokenPair, UserOut
from faster_db import Database, Repository, get_database, utcnow

__all__ = ["Accounts", "RequestAccounts", "roles_of"]

logger = logging.getLogger(__name__)


async def roles_of(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    result = await session.scalars(select(UserRole.role).where(UserRole.user_id == user_id))
    return sorted(result)


class Accounts:
    """The local provider's account operations for one app."""

    def __init__(self, auth: Auth, database: Database) -> None:
        self.auth = auth
        self.database = database
        self.settings = auth.settings

    def check_policy(self, password: str) -> None:
        if len(password) < self.settings.password_min_length:
            raise WeakPasswordError(
                f"The password must be at least {self.settings.password_min_length} characters."
            )

    async def register(self, registration: Registration) -> UserOut:
        """A new active account; `EmailTakenError` when the email is in use (race-free)."""
        self.check_policy(registration.password)
        password_hash = await self.auth.passwords.hash(registration.password)
        user_id = uuid.uuid4()
        values: dict[str, Any] = {
            "id": user_id,
            "issuer": self.settings.issuer,
            "subject": str(user_id),
            "email": registration.email,
            "display_name": registration.display_name,
            "password_hash": password_hash,
            "status": UserStatus.ACTIVE,
            "attributes": {},
        }
        async with self.database.session_scope() as session:
            # One INSERT .. ON CONFLICT DO NOTHING: concurrent registrations cannot both win,
            # and the loser gets a 409, never an IntegrityError.
            row = await Repository(session, User).upsert(
                values, conflict_on=["issuer", "email"], update=[]
            )
            if row.id != user_id:
                raise EmailTakenError("An account with this email already exists.")
            out = UserOut(
                id=row.id,
                email=row.email,
                display_name=row.display_name,
                status=row.status,
                roles=[],
            )
        logger.info("registered user %s", user_id)
        return out

    async def sign_in(self, credentials: Credentials) -> TokenPair:
        """A token pair for valid credentials; one `InvalidCredentialsError` for every failure."""
        async with self.database.session_scope(readonly=True) as session:
            user = (
                await session.execute(
                    select(User.id, User.subject, User.password_hash, User.status).where(
                        User.issuer == self.settings.issuer, User.email == credentials.email
                    )
                )
            ).first()
        stored_hash = None if user is None else user.password_hash
        matches = await self.auth.passwords.verify_or_dummy(credentials.password, stored_hash)
        if user is None or not matches or user.status != UserStatus.ACTIVE:
            raise InvalidCredentialsError
        async with self.database.session_scope() as session:
            await session.execute(
                update(User).where(User.id == user.id).values(last_sign_in_at=utcnow())
            )
            return await self._token_pair(session, user.id, user.subject)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate `refresh_token`; a reused one revokes its whole family and is refused."""
        async with self.database.session_scope() as session:
            tokens = RefreshTokens(session, self.settings.refresh_token_ttl)
            outcome = await tokens.spend(refresh_token)
            if outcome.reused and outcome.family_id is not None:
                logger.warning("refresh token reused: revoking family %s", outcome.family_id)
                await tokens.revoke_family(outcome.family_id)
            user = None if outcome.user_id is None else await session.get(User, outcome.user_id)
            if user is not None and user.status == UserStatus.ACTIVE:
                return await self._token_pair(session, user.id, user.subject, outcome.family_id)
            if user is not None and outcome.family_id is not None:
                await tokens.revoke_family(outcome.family_id)
        raise InvalidTokenError("refresh token refused")

    async def sign_out(self, refresh_token: str) -> None:
        """Revoke the family of `refresh_token` (every token rotated from the same sign-in)."""
        async with self.database.session_scope() as session:
            tokens = RefreshTokens(session, self.settings.refresh_token_ttl)
            outcome = await tokens.spend(refresh_token)
            if outcome.family_id is not None:
                await tokens.revoke_family(outcome.family_id)

    async def sign_out_everywhere(self, subject: str) -> None:
        """Revoke every refresh token of the user and every access token issued until now."""
        now = utcnow()
        async with self.database.session_scope() as session:
            user_id = await session.scalar(
                update(User)
                .where(User.issuer == self.settings.issuer, User.subject == subject)
                .values(tokens_valid_after=now)
                .returning(User.id)
            )
            if user_id is not None:
                await session.execute(
                    update(RefreshToken)
                    .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
        self.auth.users.forget(subject)

    async def _token_pair(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        subject: str,
        family_id: uuid.UUID | None = None,
    ) -> TokenPair:
        roles = await roles_of(session, user_id)
        refresh = await RefreshTokens(session, self.settings.refresh_token_ttl).issue(
            user_id, family_id
        )
        access = self.auth.issuer.issue(subject, roles=roles)
        return TokenPair(
            access_token=access,
            expires_in=self.settings.access_token_ttl,
            refresh_token=refresh,
        )


async def _accounts(request: Request) -> Accounts:
    auth: Auth = request.state.auth
    return Accounts(auth, get_database(request))


RequestAccounts = Annotated[Accounts, Depends(_accounts)]
