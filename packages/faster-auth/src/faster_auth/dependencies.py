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
from starlette.types import Scope

from faster_auth.exceptions import InvalidTokenError, PermissionDeniedError
from faster_auth.tokens import VerifiedToken
from faster_core import request_dependency

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
    "peek_user",
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


def _cached_user(scope: Scope) -> AuthenticatedUser | None:
    """The steady state: the caller of a bearer header this process has admitted before, when
    every cached answer still admits it (`faster_auth._admission`); else `None`."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            state = scope.get("state")
            guard: Guard | None = state.get("auth_guard") if state is not None else None
            return None if guard is None else guard.admissions.admitted(value)
    return None


def _guard(request: Request) -> Guard:
    from faster_auth.guard import guard_of  # noqa: PLC0415 - guard imports us

    return guard_of(request)


async def _user(
    request: Request, *, required: bool, count: bool = True
) -> AuthenticatedUser | None:
    """The full check (anything `_cached_user` could not answer); refusals are counted in the
    app's outcome metrics unless `count` is off."""
    header = None
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            header = value
            break
    if header is None and not required:
        return None
    guard = _guard(request)
    outcomes = guard.auth.settings.outcomes if count else None
    if header is None:
        if outcomes is not None:
            outcomes.token_rejected("no credentials")
        raise InvalidTokenError("no credentials")
    try:
        return await guard.admissions.admit(header)
    except InvalidTokenError as exc:
        if outcomes is not None:
            outcomes.token_rejected(exc.reason)
        raise


async def optional_user(request: Request) -> AuthenticatedUser | None:
    """The caller when a bearer token is sent (a bad one is still a 401), else `None`.

    Verified claims come from the verifier's cache until the token expires, the user's standing
    and the token's revocation from per-process caches of at most a second: in steady state the
    whole check is a few dictionary look-ups and creates no coroutine.
    """
    user = _cached_user(request.scope)
    return user if user is not None else await _user(request, required=False)


async def current_user(request: Request) -> AuthenticatedUser:
    """The caller; a 401 problem without a valid bearer token."""
    user = _cached_user(request.scope) or await _user(request, required=True)
    if user is None:  # `_user` refuses a missing credential when it is required
        raise InvalidTokenError("no credentials")
    return user


async def peek_user(request: Request) -> AuthenticatedUser | None:
    """`optional_user` for faster-auth's own guards (logout, the credential limits): a refused
    token is not counted, since the route's own dependency answers (and counts) it."""
    user = _cached_user(request.scope)
    return user if user is not None else await _user(request, required=False, count=False)


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
        # One coroutine and a few look-ups in the steady state. Called by the core as a request
        # dependency where it leads a route's dependencies; elsewhere FastAPI's own solve of the
        # dependency (~70k instructions) is most of the cost.
        user = _cached_user(request.scope)
        return user if user is not None else await _user(request, required=self.required)


# `scope="request"` changes nothing for a dependency without `yield` (it may still be used by
# one with either scope) but spares FastAPI classifying the callable on every request.
# Request dependencies: the core calls them before FastAPI solves the route's other
# dependencies, which spares each request FastAPI's ~70k-instruction solve of one.
CurrentUser = Annotated[
    AuthenticatedUser, Depends(request_dependency(BearerUser(required=True)), scope="request")
]
OptionalUser = Annotated[
    AuthenticatedUser | None,
    Depends(request_dependency(BearerUser(required=False)), scope="request"),
]


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
