"""Changes to one's own account: password change and reset, email verification, deactivation.

Each change that should end existing sessions (a new password, a reset, deactivation) revokes
every token of the user in the same transaction, then tells the revocation layer. Password
reset and verification tokens are single use, expire, and are stored hashed (`onetime`).
A reset request answers the same whether or not the account exists: the look-up, the token and
the delivery all happen after the response, in the background.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from faster_auth.accounts import Accounts, describe, revoke_user_tokens
from faster_auth.audit import AuditType, Outcome
from faster_auth.exceptions import InvalidOneTimeTokenError, PasswordConfirmationError
from faster_auth.models import User, UserStatus
from faster_auth.onetime import EMAIL_VERIFICATION, PASSWORD_RESET, OneTimeTokens, link_with_token
from faster_auth.schemas import TokenPair
from faster_db import utcnow

__all__ = ["AccountChanges"]


class AccountChanges:
    """A signed-in user's (or a reset link holder's) changes to their account."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.settings = accounts.settings
        self.database = accounts.database

    async def change_password(self, subject: str, current: str, new: str) -> TokenPair:
        """Set a new password (the current one required); every other session ends.

        Returns a fresh token pair, so the caller stays signed in.
        """
        user_id, email = await self._confirm_password(subject, current, AuditType.PASSWORD_CHANGE)
        self.accounts.check_policy(new, email)
        password_hash = await self.accounts.auth.passwords.hash(new)
        async with self.database.session_scope() as session:
            await revoke_user_tokens(session, user_id, utcnow())
            await session.execute(
                update(User).where(User.id == user_id).values(password_hash=password_hash)
            )
        await self.accounts.forget_tokens_of(subject)
        # Issued after every revocation layer has its cut-off, so none of them can catch it.
        async with self.database.session_scope() as session:
            pair = await self.accounts.token_pair(session, user_id, subject)
        self.accounts.audit(AuditType.PASSWORD_CHANGE, Outcome.SUCCESS, user_id=user_id)
        return pair

    async def deactivate(self, subject: str, password: str) -> None:
        """Deactivate the caller's own account (password confirmed); every token dies."""
        user_id, _ = await self._confirm_password(subject, password, AuditType.DEACTIVATE)
        async with self.database.session_scope() as session:
            await revoke_user_tokens(session, user_id, utcnow())
            await session.execute(
                update(User).where(User.id == user_id).values(status=UserStatus.DEACTIVATED)
            )
            row = await session.get(User, user_id, populate_existing=True)
            out = None if row is None else await describe(session, row)
        await self.accounts.forget_tokens_of(subject)
        self.accounts.audit(AuditType.DEACTIVATE, Outcome.SUCCESS, user_id=user_id)
        if out is not None:
            self.accounts.emit("faster_auth_user_deactivated", user=out)

    def request_password_reset(self, email: str) -> None:
        """Start a reset for `email` in the background; nothing tells whether it exists."""
        self.accounts.services.events.spawn(self._send_reset(email))

    async def reset_password(self, token: str, new: str) -> None:
        """Set a new password with a reset token (single use); every session ends."""
        self.accounts.check_policy(new)
        password_hash = await self.accounts.auth.passwords.hash(new)
        async with self.database.session_scope() as session:
            user_id = await OneTimeTokens(session).spend(token, PASSWORD_RESET)
            user = None if user_id is None else await session.get(User, user_id)
            if user is None or user.status != UserStatus.ACTIVE:
                self.accounts.audit(AuditType.PASSWORD_RESET, Outcome.FAILURE, user_id=user_id)
                raise InvalidOneTimeTokenError
            # Rolled back with the spent token when the policy refuses it: the link still works.
            self.accounts.check_policy(new, user.email)
            await revoke_user_tokens(session, user.id, utcnow())
            # The link reached the inbox: that proves the address as well as a verification.
            attributes = _verified(user.attributes)
            await session.execute(
                update(User)
                .where(User.id == user.id)
                .values(password_hash=password_hash, attributes=attributes)
            )
            subject = user.subject
        await self.accounts.forget_tokens_of(subject)
        self.accounts.audit(AuditType.PASSWORD_RESET, Outcome.SUCCESS, user_id=user_id)

    def request_email_verification(self, user_id: uuid.UUID) -> None:
        """Send (again) a verification link to the caller's email, in the background."""
        self.accounts.services.events.spawn(self.accounts.send_verification(user_id))

    async def verify_email(self, token: str) -> None:
        """Mark the email of the token's user verified (single use)."""
        async with self.database.session_scope() as session:
            user_id = await OneTimeTokens(session).spend(token, EMAIL_VERIFICATION)
            if user_id is None:
                self.accounts.audit(AuditType.VERIFICATION, Outcome.FAILURE)
                raise InvalidOneTimeTokenError
            user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
            if user is not None:
                user.attributes = _verified(user.attributes)
        self.accounts.audit(AuditType.VERIFICATION, Outcome.SUCCESS, user_id=user_id)

    async def _send_reset(self, email: str) -> None:
        async with self.database.session_scope() as session:
            user = await session.scalar(
                select(User).where(User.issuer == self.settings.issuer, User.email == email)
            )
            if user is None or user.status != UserStatus.ACTIVE:
                self.accounts.audit(
                    AuditType.PASSWORD_RESET_REQUEST,
                    Outcome.FAILURE,
                    user_id=None if user is None else user.id,
                )
                return
            token = await OneTimeTokens(session).issue(
                user.id, PASSWORD_RESET, self.settings.password_reset_ttl
            )
            out = await describe(session, user)
        link = link_with_token(self.settings.password_reset_url, token)
        self.accounts.audit(AuditType.PASSWORD_RESET_REQUEST, Outcome.SUCCESS, user_id=out.id)
        self.accounts.emit("faster_auth_password_reset_requested", user=out, link=link)

    async def _confirm_password(
        self, subject: str, password: str, action: str
    ) -> tuple[uuid.UUID, str | None]:
        """The caller's id and email if `password` is theirs; `PasswordConfirmationError` if not."""
        async with self.database.session_scope(readonly=True) as session:
            user = (
                await session.execute(
                    select(User.id, User.email, User.password_hash).where(
                        User.issuer == self.settings.issuer, User.subject == subject
                    )
                )
            ).first()
        stored = None if user is None else user.password_hash
        matches = await self.accounts.auth.passwords.verify_or_dummy(password, stored)
        if user is None or not matches:
            self.accounts.audit(
                action,
                Outcome.FAILURE,
                user_id=None if user is None else user.id,
                detail={"reason": "password"},
            )
            raise PasswordConfirmationError
        return user.id, user.email


def _verified(attributes: dict[str, Any] | None) -> dict[str, Any]:
    current = dict(attributes or {})
    current.setdefault("email_verified_at", utcnow().isoformat())
    return current
