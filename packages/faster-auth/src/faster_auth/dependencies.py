"""FastAPI dependencies: `CurrentUser`, `OptionalUser` and `require_roles(...)`.

All are `async def`: a sync dependency would cost a thread hop per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from starlette.requests import Request

from faster_auth.exceptions import InvalidTokenError, PermissionDeniedError
from faster_auth.tokens import VerifiedToken

if TYPE_CHECKING:
    from faster_auth.guard import Guard

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


def _guard(request: Request) -> Guard:
    state = request.scope.get("state")
    guard: Guard | None = state.get("auth_guard") if state is not None else None
    if guard is None:
        from faster_auth.guard import guard_of  # noqa: PLC0415 - guard imports us

        guard = guard_of(request)
    return guard


async def optional_user(request: Request) -> AuthenticatedUser | None:
    """The caller when a bearer token is sent (a bad one is still a 401), else `None`.

    Verified claims come from the verifier's cache until the token expires, the user's standing
    and the token's revocation from per-process caches of at most a second: in steady state the
    whole check is a few dictionary look-ups.
    """
    token = _bearer_token(request)
    if token is None:
        return None
    guard = _guard(request)
    auth = guard.auth
    verified = auth.verifier.verify(token)
    # The synchronous cache look-ups first: no coroutine is created on the steady-state path.
    database = guard.database
    if database is not None and not auth.users.admits(
        database, verified.subject, verified.issued_at
    ):
        await auth.users.check(database, verified.subject, verified.issued_at)
    if not guard.revocations.admits(verified):
        await guard.revocations.check(verified)
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
