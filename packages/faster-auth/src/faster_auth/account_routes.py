"""The local provider's account routes: register, login (JSON and OAuth2 form), refresh, logout,
password change and reset, email verification, deactivation and onboarding.

Endpoint names matter: the credential limits (auth-guard) recognise `login`, `token`, the reset
request (`password_reset_request`), the password confirmations (`change_password`, `deactivate`)
and the link confirmations (`password_reset_confirm`, `email_verification_confirm`) by them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from starlette.responses import Response

from faster_auth.account_changes import AccountChanges
from faster_auth.accounts import RequestAccounts, describe
from faster_auth.dependencies import CurrentUser
from faster_auth.exceptions import InvalidCredentialsError, InvalidTokenError
from faster_auth.models import User
from faster_auth.onboarding import Onboarding, OnboardingOut, OnboardingUpdate
from faster_auth.passwords import MAX_PASSWORD_LENGTH
from faster_auth.schemas import (
    Credentials,
    RefreshRequest,
    Registration,
    TokenPair,
    UserOut,
    normalize_email,
)

__all__ = [
    "EmailRequest",
    "OneTimeTokenRequest",
    "PasswordChange",
    "PasswordConfirmation",
    "PasswordReset",
    "accounts_router",
]

Password = Annotated[str, Field(max_length=MAX_PASSWORD_LENGTH, repr=False)]
OneTimeToken = Annotated[str, Field(min_length=1, max_length=256, repr=False)]


class PasswordChange(BaseModel):
    current_password: Password
    new_password: Password


class PasswordConfirmation(BaseModel):
    password: Password


class EmailRequest(BaseModel):
    email: Annotated[str, Field(max_length=320)]

    def normalized(self) -> str | None:
        try:
            return normalize_email(self.email)
        except ValueError:
            return None


class PasswordReset(BaseModel):
    token: OneTimeToken
    new_password: Password


class OneTimeTokenRequest(BaseModel):
    token: OneTimeToken


def _accepted() -> Response:
    return Response(status_code=status.HTTP_202_ACCEPTED)


def _no_content() -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def accounts_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["auth"])
    _sessions(router)
    _changes(router)
    _onboarding(router)
    return router


def _sessions(router: APIRouter) -> None:
    @router.post("/register", status_code=status.HTTP_201_CREATED)
    async def register(body: Registration, accounts: RequestAccounts) -> UserOut:
        return await accounts.register(body)

    @router.post("/login")
    async def login(body: Credentials, accounts: RequestAccounts) -> TokenPair:
        return await accounts.sign_in(body)

    @router.post("/token", summary="Login with the OAuth2 password form (Swagger's Authorize)")
    async def token(
        form: Annotated[OAuth2PasswordRequestForm, Depends()], accounts: RequestAccounts
    ) -> TokenPair:
        try:
            credentials = Credentials(email=form.username, password=form.password)
        except ValidationError:
            raise InvalidCredentialsError from None
        return await accounts.sign_in(credentials)

    @router.post("/refresh")
    async def refresh(body: RefreshRequest, accounts: RequestAccounts) -> TokenPair:
        return await accounts.refresh(body.refresh_token)

    @router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
    async def logout(body: RefreshRequest, accounts: RequestAccounts) -> Response:
        await accounts.sign_out(body.refresh_token)
        return _no_content()

    @router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
    async def logout_all(user: CurrentUser, accounts: RequestAccounts) -> Response:
        """Sign out everywhere: every refresh token and every access token issued so far."""
        await accounts.sign_out_everywhere(user.subject)
        return _no_content()

    @router.get("/me")
    async def me(user: CurrentUser, accounts: RequestAccounts) -> UserOut:
        async with accounts.database.session_scope(readonly=True) as session:
            row = await session.scalar(
                select(User).where(
                    User.issuer == accounts.settings.issuer, User.subject == user.subject
                )
            )
            if row is None:
                raise InvalidTokenError("no such user")
            return await describe(session, row)


def _changes(router: APIRouter) -> None:
    @router.post("/password", summary="Change the password (the current one is required)")
    async def change_password(
        body: PasswordChange, user: CurrentUser, accounts: RequestAccounts
    ) -> TokenPair:
        """Every other session ends; the answer is a fresh token pair for this one."""
        changes = AccountChanges(accounts)
        return await changes.change_password(user.subject, body.current_password, body.new_password)

    @router.post("/password-reset", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
    async def password_reset_request(body: EmailRequest, accounts: RequestAccounts) -> Response:
        """Email a reset link if the account exists; the answer is the same either way."""
        email = body.normalized()
        if email is not None:
            AccountChanges(accounts).request_password_reset(email)
        return _accepted()

    @router.post("/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT)
    async def password_reset_confirm(body: PasswordReset, accounts: RequestAccounts) -> Response:
        await AccountChanges(accounts).reset_password(body.token, body.new_password)
        return _no_content()

    @router.post("/verify-email", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
    async def email_verification_request(user: CurrentUser, accounts: RequestAccounts) -> Response:
        """Send (again) a verification link to the caller's email."""
        async with accounts.database.session_scope(readonly=True) as session:
            user_id = await session.scalar(
                select(User.id).where(
                    User.issuer == accounts.settings.issuer, User.subject == user.subject
                )
            )
        if user_id is not None:
            AccountChanges(accounts).request_email_verification(user_id)
        return _accepted()

    @router.post("/verify-email/confirm", status_code=status.HTTP_204_NO_CONTENT)
    async def email_verification_confirm(
        body: OneTimeTokenRequest, accounts: RequestAccounts
    ) -> Response:
        await AccountChanges(accounts).verify_email(body.token)
        return _no_content()

    @router.post("/me/deactivate", status_code=status.HTTP_204_NO_CONTENT)
    async def deactivate(
        body: PasswordConfirmation, user: CurrentUser, accounts: RequestAccounts
    ) -> Response:
        """Deactivate your own account (password required): every token stops working."""
        await AccountChanges(accounts).deactivate(user.subject, body.password)
        return _no_content()


def _onboarding(router: APIRouter) -> None:
    def onboarding(accounts: RequestAccounts) -> Onboarding:
        settings = accounts.settings
        return Onboarding(accounts.database, settings.issuer, settings.onboarding_steps)

    @router.get("/me/onboarding")
    async def get_onboarding(user: CurrentUser, accounts: RequestAccounts) -> OnboardingOut:
        return await onboarding(accounts).status(user.subject)

    @router.post("/me/onboarding")
    async def advance_onboarding(
        body: OnboardingUpdate, user: CurrentUser, accounts: RequestAccounts
    ) -> OnboardingOut:
        """Complete one step (`{"step": "profile"}`) or all of them (`{"complete": true}`)."""
        return await onboarding(accounts).advance(user.subject, body)
