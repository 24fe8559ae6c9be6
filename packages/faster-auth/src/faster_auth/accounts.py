"""Local accounts: register, sign in, refresh and sign out, each in its own unit of work.

Password hashing runs outside any database transaction: on SQLite a write transaction holds the
database's one write lock, and argon2 takes a quarter of a second by design.

Every flow records an audit event and publishes its hook (`faster_auth.hookspecs`) after its
unit of work commits, both off the request path. Revoking a user's tokens goes through
`revoke_user_tokens`: in the same transaction as the change that causes it, the user's
`tokens_valid_after` and every refresh token; after the commit, the revocation layer (Redis and
its pub/sub when enabled) through `UserRevoker`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from faster_auth.account_services import STATE_KEY, AccountServices
from faster_auth.audit import AuditType, ClientInfo, Outcome, client_info
from faster_auth.auth import Auth
from faster_auth.exceptions import (
    AuthConfigurationError,
    EmailTakenError,
    InvalidCredentialsError,
    InvalidTokenError,
)
from faster_auth.models import RefreshToken, User, UserRole, UserStatus
from faster_auth.onetime import EMAIL_VERIFICATION, OneTimeTokens, link_with_token
from faster_auth.refresh_tokens import RefreshTokens
from faster_auth.schemas import Credentials, Registration, TokenPair, UserOut
from faster_db import Database, Repository, get_database, utcnow

__all__ = [
    "Accounts",
    "RequestAccounts",
    "UserRevoker",
    "describe",
    "describe_many",
    "revoke_user_tokens",
    "roles_of",
]

logger = logging.getLogger(__name__)

GUARD_STATE_KEY = "auth_guard"


async def roles_of(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    result = await session.scalars(select(UserRole.role).where(UserRole.user_id == user_id))
    return sorted(result)


async def describe(session: AsyncSession, user: User) -> UserOut:
    """A `UserOut` snapshot of `user` (with its roles), safe to keep after the session ends."""
    return _snapshot(user, await roles_of(session, user.id))


async def describe_many(session: AsyncSession, users: Sequence[User]) -> list[UserOut]:
    """`describe` for a page of users, with one query for all their roles."""
    roles: dict[uuid.UUID, list[str]] = {user.id: [] for user in users}
    if roles:
        found = await session.execute(
            select(UserRole.user_id, UserRole.role)
            .where(UserRole.user_id.in_(roles))
            .order_by(UserRole.role)
        )
        for user_id, role in found:
            roles[user_id].append(role)
    return [_snapshot(user, roles[user.id]) for user in users]


def _snapshot(user: User, roles: list[str]) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        status=user.status,
        roles=roles,
        email_verified=_is_verified(user),
        created_at=user.created_at,
        last_sign_in_at=user.last_sign_in_at,
    )


def _is_verified(user: User) -> bool:
    return bool((user.attributes or {}).get("email_verified_at"))


async def revoke_user_tokens(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    """Refuse every access token of `user_id` issued before `now` and revoke its refresh tokens."""
    await session.execute(update(User).where(User.id == user_id).values(tokens_valid_after=now))
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


class UserRevoker(Protocol):
    """The revocation layer's "revoke every token of this subject" (auth-guard's `Guard`)."""

    async def revoke_user_tokens(self, subject: str) -> None: ...


class Accounts:
    """The local provider's account operations for one request (or one background job)."""

    def __init__(
        self,
        auth: Auth,
        database: Database,
        services: AccountServices,
        client: ClientInfo | None = None,
        revoker: UserRevoker | None = None,
    ) -> None:
        self.auth = auth
        self.database = database
        self.settings = auth.settings
        self.services = services
        self.client = client or ClientInfo()
        self.revoker = revoker

    def check_policy(self, password: str, email: str | None = None) -> None:
        self.services.policy.check(password, email=email)

    def audit(self, type: str, outcome: str, **fields: Any) -> None:
        """Queue an audit event about this request's client (never waits), and count it."""
        detail = fields.get("detail")
        reason = detail.get("reason") if detail is not None else None
        self.settings.outcomes.event(type, outcome, None if reason is None else str(reason))
        if self.services.audit is not None:
            self.services.audit.record(type, outcome, client=self.client, **fields)

    def emit(self, hook_name: str, **kwargs: Any) -> None:
        self.services.events.emit(hook_name, **kwargs)

    async def forget_tokens_of(self, subject: str) -> None:
        """After `revoke_user_tokens` committed: every worker stops accepting the old tokens."""
        self.auth.users.forget(subject)
        if self.revoker is not None:
            await self.revoker.revoke_user_tokens(subject)

    async def register(self, registration: Registration) -> UserOut:
        """A new active account; `EmailTakenError` when the email is in use (race-free)."""
        self.check_policy(registration.password, registration.email)
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
            out = await describe(session, row)
        logger.info("registered user %s", user_id)
        self.audit(AuditType.REGISTER, Outcome.SUCCESS, user_id=user_id)
        self.emit("faster_auth_user_created", user=out)
        if self.settings.verify_email_on_register:
            self.services.events.spawn(self.send_verification(user_id))
        return out

    async def sign_in(self, credentials: Credentials) -> TokenPair:
        """A token pair for valid credentials; one `InvalidCredentialsError` for every failure.

        An unknown email, a wrong password and an account that may not sign in cost the same
        argon2 verification and raise the same error; only the audit trail tells them apart.
        """
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
            reason = "unknown" if user is None else "password" if not matches else user.status
            self.audit(
                AuditType.LOGIN,
                Outcome.FAILURE,
                user_id=None if user is None else user.id,
                detail={"reason": reason},
            )
            raise InvalidCredentialsError
        async with self.database.session_scope() as session:
            await session.execute(
                update(User).where(User.id == user.id).values(last_sign_in_at=utcnow())
            )
            pair = await self.token_pair(session, user.id, user.subject)
            row = await session.get(User, user.id)
            out = None if row is None else await describe(session, row)
        self.audit(AuditType.LOGIN, Outcome.SUCCESS, user_id=user.id)
        if out is not None:
            self.emit("faster_auth_user_signed_in", user=out)
        return pair

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate `refresh_token`; a reused one revokes its whole family and is refused."""
        async with self.database.session_scope() as session:
            tokens = RefreshTokens(session, self.settings.refresh_token_ttl)
            outcome = await tokens.spend(refresh_token)
            if outcome.reused and outcome.family_id is not None:
                logger.warning("refresh token reused: revoking family %s", outcome.family_id)
                await tokens.revoke_family(outcome.family_id)
                owner = await _family_owner(session, outcome.family_id)
                self.audit(AuditType.REFRESH_REUSE, Outcome.DENIED, user_id=owner)
            user = None if outcome.user_id is None else await session.get(User, outcome.user_id)
            if user is not None and user.status == UserStatus.ACTIVE:
                pair = await self.token_pair(session, user.id, user.subject, outcome.family_id)
                self.settings.outcomes.refreshed("success")
                return pair
            if user is not None and outcome.family_id is not None:
                await tokens.revoke_family(outcome.family_id)
        self.settings.outcomes.refreshed("reused" if outcome.reused else "refused")
        raise InvalidTokenError("refresh token refused")

    async def sign_out(self, refresh_token: str) -> None:
        """Revoke the family of `refresh_token` (every token rotated from the same sign-in)."""
        async with self.database.session_scope() as session:
            tokens = RefreshTokens(session, self.settings.refresh_token_ttl)
            outcome = await tokens.spend(refresh_token)
            if outcome.family_id is None:
                return
            await tokens.revoke_family(outcome.family_id)
            user_id = outcome.user_id or await _family_owner(session, outcome.family_id)
        self.audit(AuditType.LOGOUT, Outcome.SUCCESS, user_id=user_id)
        if user_id is not None:
            self.emit("faster_auth_user_signed_out", user_id=user_id, everywhere=False)

    async def sign_out_everywhere(self, subject: str) -> None:
        """Revoke every refresh token of the user and every access token issued until now."""
        async with self.database.session_scope() as session:
            user_id = await session.scalar(
                select(User.id).where(User.issuer == self.settings.issuer, User.subject == subject)
            )
            if user_id is not None:
                await revoke_user_tokens(session, user_id, utcnow())
        await self.forget_tokens_of(subject)
        if user_id is not None:
            self.audit(AuditType.LOGOUT_ALL, Outcome.SUCCESS, user_id=user_id)
            self.emit("faster_auth_user_signed_out", user_id=user_id, everywhere=True)

    async def send_verification(self, user_id: uuid.UUID) -> None:
        """Issue an email-verification token for `user_id` and publish its link (background)."""
        async with self.database.session_scope() as session:
            user = await session.get(User, user_id)
            if user is None or user.email is None or user.status != UserStatus.ACTIVE:
                return
            if _is_verified(user):
                return
            token = await OneTimeTokens(session).issue(
                user_id, EMAIL_VERIFICATION, self.settings.email_verification_ttl
            )
            out = await describe(session, user)
        link = link_with_token(self.settings.email_verification_url, token)
        self.audit(AuditType.VERIFICATION_REQUEST, Outcome.SUCCESS, user_id=user_id)
        self.emit("faster_auth_email_verification_requested", user=out, link=link)

    async def token_pair(
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


async def _family_owner(session: AsyncSession, family_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(
        select(RefreshToken.user_id).where(RefreshToken.family_id == family_id).limit(1)
    )


def _state(request: Request, key: str) -> Any:
    state = request.scope.get("state")
    value = state.get(key) if state is not None else None
    return value if value is not None else getattr(request.app.state, key, None)


async def _accounts(request: Request) -> Accounts:
    auth: Auth = request.state.auth
    services = _state(request, STATE_KEY)
    if not isinstance(services, AccountServices):
        raise AuthConfigurationError("faster-auth is not running: enable the 'auth' plugin")
    guard = _state(request, GUARD_STATE_KEY)
    revoker = guard if callable(getattr(guard, "revoke_user_tokens", None)) else None
    client = client_info(request.scope, services.trusted_proxies)
    return Accounts(auth, get_database(request), services, client, revoker)


RequestAccounts = Annotated[Accounts, Depends(_accounts)]
