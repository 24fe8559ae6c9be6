"""FastAPI dependencies: `CurrentUser`, `OptionalUser` and `require_roles(...)`.

All are `async def`: a sync dependency would cost a thread hop per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from starlette.requests import Request

from faster_auth.auth import Auth
from faster_auth.exceptions import (
    AuthConfigurationError,
    InvalidTokenError,
    PermissionDeniedError,
)
from faster_auth.tokens import VerifiedToken
from faster_db import get_database

__all__ = [
    "DEFAULT_TOKEN_URL",
    "SCHEME_NAME",
    "AuthenticatedUser",
    "BearerUser",
    "CurrentUser",
    "OptionalUser",
    "current_user",
    "optional_user",
    "require_roles",
]


SCHEME_NAME = "OAuth2PasswordBearer"
DEFAULT_TOKEN_URL = "/auth/token"  # noqa: S105 - a URL, not a secret


@dataclass(frozen=True)
class AuthenticatedUser:
    """The caller of this request, from a verified access token."""

    subject: str
    roles: frozenset[str]
    token: VerifiedToken


def _bearer_token(request: Request) -> str | None:
    # The raw ASGI headers: building `request.headers` costs more than the look-up itself.
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise InvalidTokenError("not a bearer credential")
            return token.strip()
    return None


def _auth(request: Request) -> Auth:
    state = request.scope.get("state")
    auth = state.get("auth") if state is not None else None
    if not isinstance(auth, Auth):
        auth = request.app.state.auth
    if not isinstance(auth, Auth):
        raise AuthConfigurationError("faster-auth is not running: enable the 'auth' plugin")
    return auth


async def optional_user(request: Request) -> AuthenticatedUser | None:
    """The caller when a bearer token is sent (a bad one is still a 401), else `None`."""
    token = _bearer_token(request)
    if token is None:
        return None
    auth = _auth(request)
    verified = auth.verifier.verify(token)
    await auth.users.check(get_database(request), verified.subject, verified.issued_at)
    return AuthenticatedUser(verified.subject, verified.roles, verified)


async def current_user(request: Request) -> AuthenticatedUser:
    """The caller; a 401 problem without a valid bearer token."""
    user = await optional_user(request)
    if user is None:
        raise InvalidTokenError("no credentials")
    return user


class BearerUser(OAuth2PasswordBearer):
    """`current_user` / `optional_user` as a security scheme object.

    FastAPI documents a dependency that is a `SecurityBase` as the route's security requirement,
    which gives Swagger its Authorize button, at the price of one dependency, not two. The
    token URL documented here follows the default `/auth` prefix; the plugin rewrites it in each
    app's schema when `FASTER_AUTH_ROUTES_PREFIX` differs. Holds no state.
    """

    def __init__(self, *, required: bool) -> None:
        super().__init__(tokenUrl=DEFAULT_TOKEN_URL, scheme_name=SCHEME_NAME, auto_error=required)
        self.required = required

    async def __call__(self, request: Request) -> AuthenticatedUser | None:  # type: ignore[override]
        if self.required:
            return await current_user(request)
        return await optional_user(request)


CurrentUser = Annotated[AuthenticatedUser, Depends(BearerUser(required=True))]
OptionalUser = Annotated[AuthenticatedUser | None, Depends(BearerUser(required=False))]


def require_roles(*roles: str) -> Callable[[AuthenticatedUser], Awaitable[AuthenticatedUser]]:
    """A dependency admitting callers holding every one of `roles` (403 otherwise)."""
    if not roles:
        raise ValueError("require_roles() needs at least one role")
    needed = frozenset(roles)

    async def dependency(user: CurrentUser) -> AuthenticatedUser:
        if not needed <= user.roles:
            raise PermissionDeniedError("This action requires a role you do not have.")
        return user

    return dependency
