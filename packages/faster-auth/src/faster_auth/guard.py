"""`Guard`: revocations, sign-in limits and permissions of one app, built in the lifespan.

The auth plugin yields it as state `auth_guard` (`request.state.auth_guard`,
`app.state.auth_guard`). With the redis plugin enabled the revocations and counters live in
Redis; otherwise in the database.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from starlette.requests import Request

from faster_auth._admission import Admissions
from faster_auth.auth import Auth
from faster_auth.dependencies import peek_user
from faster_auth.exceptions import (
    AuthConfigurationError,
    FasterAuthError,
    InvalidCredentialsError,
    InvalidOneTimeTokenError,
    PasswordConfirmationError,
    TooManyAttemptsError,
)
from faster_auth.permissions import Permissions
from faster_auth.policy import apply_tag_policy, refuse_unguarded_routes
from faster_auth.revocation import (
    DatabaseRevocationStore,
    NoRevocationStore,
    RedisRevocationStore,
    Revocations,
    RevocationStore,
)
from faster_auth.throttle import (
    AttemptCounter,
    DatabaseAttemptCounter,
    NoAttemptCounter,
    RedisAttemptCounter,
    SignInThrottle,
    TrustedProxies,
)
from faster_core import PluginHost
from faster_db import Database

__all__ = [
    "STATE_KEY",
    "Guard",
    "account_route_guard",
    "guard_lifespan",
    "guard_of",
    "guarded_accounts_router",
]

logger = logging.getLogger(__name__)

STATE_KEY = "auth_guard"


@dataclass(frozen=True)
class Guard:
    """What stands between a token and a route, for one app."""

    auth: Auth
    database: Database | None
    revocations: Revocations
    throttle: SignInThrottle
    permissions: Permissions
    admissions: Admissions

    async def revoke_token(self, jti: str, expires_at: int) -> None:
        """Refuse the access token `jti` on every worker until `expires_at` (epoch seconds)."""
        await self.revocations.revoke_token(jti, expires_at)

    async def revoke_user_tokens(self, subject: str) -> None:
        """Refuse every access token of `subject` issued so far, and its refresh tokens."""
        await self.revocations.revoke_user_tokens(subject)

    async def revoke_bearer(self, request: Request) -> None:
        """Revoke the valid bearer token `request` carries, if any (logout)."""
        try:
            user = await peek_user(request)
        except FasterAuthError:
            return  # nothing valid to revoke
        if user is not None and user.token.token_id is not None:
            await self.revoke_token(user.token.token_id, user.token.expires_at)


def guard_of(request: Request) -> Guard:
    """The running app's `Guard` (the auth plugin must be enabled)."""
    state = request.scope.get("state")
    guard = state.get(STATE_KEY) if state is not None else None
    if guard is None:
        guard = getattr(request.app.state, STATE_KEY, None)
    if not isinstance(guard, Guard):
        raise AuthConfigurationError("faster-auth is not running: enable the 'auth' plugin")
    return guard


def _redis_service(app: FastAPI, host: PluginHost) -> Any:
    if not host.is_enabled("redis"):
        return None
    return getattr(app.state, "faster_redis", None)


@asynccontextmanager
async def guard_lifespan(app: FastAPI, host: PluginHost, auth: Auth) -> AsyncIterator[Guard]:
    """Build the app's `Guard`, apply the route policies, and keep revocations coherent."""
    settings = auth.settings
    database: Database | None = app.state.db if host.is_enabled("db") else None
    redis = _redis_service(app, host)
    store: RevocationStore
    counter: AttemptCounter
    if redis is not None:
        store = RedisRevocationStore(redis, database, settings.revocation_user_retention)
        counter = RedisAttemptCounter(redis)
    elif database is not None:
        store, counter = DatabaseRevocationStore(database), DatabaseAttemptCounter(database)
    else:  # verify-only without Redis: nowhere to keep a revocation
        store, counter = NoRevocationStore(), NoAttemptCounter()
    revocations = Revocations(
        store,
        issuer=settings.issuer,
        users=auth.users,
        ttl=settings.revocation_cache_ttl,
        fail_open=settings.revocation_failure == "open",
        retry_after=redis.settings.retry_after if redis is not None else 5,
        outcomes=settings.outcomes,
    )
    throttle = SignInThrottle(
        counter,
        max_failures=settings.sign_in_max_failures,
        max_failures_per_ip=settings.sign_in_max_failures_per_ip,
        window=settings.sign_in_failure_window,
        trusted_proxies=TrustedProxies(
            settings.trusted_proxies, setting="FASTER_AUTH_TRUSTED_PROXIES"
        ),
        redis=redis,
    )
    permissions = Permissions(database, settings.permissions_cache_ttl)
    if settings.tag_roles:
        guarded = apply_tag_policy(app, settings.tag_roles)
        logger.info("tag policy guards %s routes", guarded)
    if settings.deny_by_default:
        refuse_unguarded_routes(app, settings.public_paths)
    try:
        async with revocations.listening():
            admissions = Admissions(
                auth, database, revocations, max_entries=settings.token_cache_size
            )
            yield Guard(auth, database, revocations, throttle, permissions, admissions)
    finally:
        await revocations.ahead.stop()
        await auth.users.ahead.stop()


async def _email_of(request: Request) -> str | None:
    """The account an attempt is for, from the already-parsed body (JSON or form)."""
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("application/json"):
            body = await request.json()
            value = body.get("email") if isinstance(body, dict) else None
        elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/")):
            value = (await request.form()).get("username")
        else:
            value = None
    except ValueError:
        return None
    return value if isinstance(value, str) else None


SIGN_IN_ROUTES = frozenset({"login", "token"})
"""Account routes (by endpoint name) whose failures are counted against the submitted email."""

CONFIRMATION_ROUTES = frozenset({"change_password", "deactivate"})
"""Routes where a signed-in user confirms their password: failures count against the account."""

ONE_TIME_TOKEN_ROUTES = frozenset({"password_reset_confirm", "email_verification_confirm"})
"""Routes spending a link's token: a refused token counts against the client's IP."""

_COUNTED_FAILURES = (InvalidCredentialsError, PasswordConfirmationError, InvalidOneTimeTokenError)


def _is_reset_route(name: str) -> bool:
    return "reset" in name and "confirm" not in name


async def _subject_of(request: Request) -> str | None:
    try:
        user = await peek_user(request)
    except FasterAuthError:
        return None  # the route's own `CurrentUser` answers for it
    return None if user is None else user.subject


async def _attempt_keys(guard: Guard, request: Request, name: str) -> list[str] | None:
    """The counters an attempt at route `name` counts against; `None`: not a limited route."""
    throttle = guard.throttle
    if name in SIGN_IN_ROUTES or _is_reset_route(name):
        return throttle.keys(request.scope, await _email_of(request))
    if name in CONFIRMATION_ROUTES:
        return throttle.keys(request.scope, None, subject=await _subject_of(request))
    if name in ONE_TIME_TOKEN_ROUTES:
        return throttle.keys(request.scope, None)
    return None


async def account_route_guard(request: Request) -> AsyncIterator[None]:
    """The account routes' dependency: limits on every route that checks a credential, and
    logout revoking the access token sent with it.

    Limited routes are checked before the handler runs (429 over a limit, before any password
    or token is looked at) and a failure is counted after: a refused sign-in, a wrong password
    confirmation, a refused one-time token. Reset requests count as attempts; `logout` revokes
    the bearer token's `jti`.
    """
    route = request.scope.get("route")
    name = getattr(route, "name", "") or ""
    guard = guard_of(request)
    if name == "logout":
        yield
        await guard.revoke_bearer(request)
        return
    keys = await _attempt_keys(guard, request, name)
    if keys is None:
        yield
        return
    throttle = guard.throttle
    try:
        await throttle.check(keys)
    except TooManyAttemptsError:
        guard.auth.settings.outcomes.throttled(name)
        raise
    if _is_reset_route(name):
        await throttle.record_failure(keys)
        yield
        return
    try:
        yield
    except _COUNTED_FAILURES:
        await throttle.record_failure(keys)
        raise


def guarded_accounts_router(router: APIRouter) -> APIRouter:
    """`router` (the account routes) behind `account_route_guard`."""
    guarded = APIRouter(dependencies=[Depends(account_route_guard)])
    guarded.include_router(router)
    return guarded
