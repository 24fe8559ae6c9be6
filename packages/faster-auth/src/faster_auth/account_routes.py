"""The local provider's account routes: register, login (JSON and OAuth2 form), refresh, logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import ValidationError
from sqlalchemy import select
from starlette.responses import Response

from faster_auth.accounts import RequestAccounts, roles_of
from faster_auth.dependencies import CurrentUser
from faster_auth.exceptions import InvalidCredentialsError, InvalidTokenError
from faster_auth.models import User
from faster_auth.schemas import Credentials, RefreshRequest, Registration, TokenPair, UserOut

__all__ = ["accounts_router"]


def accounts_router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["auth"])

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
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
    async def logout_all(user: CurrentUser, accounts: RequestAccounts) -> Response:
        """Sign out everywhere: every refresh token and every access token issued so far."""
        await accounts.sign_out_everywhere(user.subject)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

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
            return UserOut(
                id=row.id,
                email=row.email,
                display_name=row.display_name,
                status=row.status,
                roles=await roles_of(session, row.id),
            )

    return router
