"""Identity providers: `local` (this app signs), or an external issuer it only verifies.

`FASTER_AUTH_PROVIDER` picks one per app:

- `local`: accounts in the database, tokens signed with this app's own key (`Auth.from_settings`).
- `jwks`: any issuer publishing a JWKS at `FASTER_AUTH_JWKS_URL`.
- `oidc`: an OpenID Connect issuer; its JWKS URL comes from its discovery document.
- `supabase`: the preset for `FASTER_AUTH_SUPABASE_URL` (issuer, audience, JWKS URL derived), or
  with `FASTER_AUTH_SUPABASE_JWT_SECRET` the legacy mode: HS256 with that secret, and nothing else.

External keys are read from a `JWKSCache` on the request path and never fetched there, except
that `ExternalIdentityMiddleware` awaits one (shared, cooled-down) refresh before a request
whose plausible token names a `kid` not known yet, so a rotated key works on first use. The same
middleware records the first sight of each subject in the user mirror when the database is on.
Without the db plugin the provider runs verify-only: no user store, no account routes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from faster_auth.auth import Auth
from faster_auth.jwks import ASYMMETRIC_ALGORITHMS, JWKSCache
from faster_auth.mirror import UserMirror
from faster_auth.oidc import Discovery, static_location
from faster_auth.passwords import PasswordHasher
from faster_auth.settings import AuthSettings
from faster_auth.supabase import SupabaseAdmin, SupabaseProject
from faster_auth.supabase_routes import supabase_router
from faster_auth.tokens import KeySource, StaticKeys, TokenVerifier, TrustedKey
from faster_auth.user_status import UserGate
from faster_core import (
    CheckResult,
    Environment,
    HealthCheck,
    MiddlewareSpec,
    ProblemError,
    Slot,
)
from faster_db import Database

__all__ = [
    "EXTERNAL_PROVIDERS",
    "ExternalIdentity",
    "ExternalIdentityMiddleware",
    "LegacySecret",
    "external_health_checks",
    "external_issuer",
    "external_middleware",
    "external_routers",
    "open_auth",
    "provider_problems",
]

logger = logging.getLogger(__name__)

EXTERNAL_PROVIDERS = frozenset({"jwks", "oidc", "supabase"})
LOCAL_ISSUER = "urn:faster:local"
LOCAL_AUDIENCE = ["faster"]
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class ExternalIdentity:
    """The external provider's parts of one app: key cache, user mirror and admin client."""

    provider: str
    keys: JWKSCache | None
    mirror: UserMirror | None
    supabase: SupabaseAdmin | None = None

    async def prepare(self, verifier: TokenVerifier, token: str) -> None:
        """Before the route runs: load a rotated key, and mirror a subject seen for the first time.

        Never raises for a bad token: the route's own dependency answers that (401 or 503).
        """
        verified = verifier.cached(token)
        if verified is None:
            if self.keys is not None:
                kid = verifier.wanted_kid(token)
                if kid is not None:
                    await self.keys.refresh_for(kid)
            if self.mirror is None:
                return
            try:
                verified = verifier.verify(token)
            except ProblemError:
                return
        if self.mirror is not None:
            await self.mirror.see(verified)


class LegacySecret:
    """The one HS256 shared secret of a legacy Supabase project: whatever the `kid`, only it."""

    def __init__(self, secret: bytes) -> None:
        self._key = TrustedKey(secret, "HS256")

    def key_for(self, kid: str | None) -> TrustedKey | None:
        return self._key

    def check_available(self) -> None:
        return None


class ExternalIdentityMiddleware:
    """Pure ASGI: runs `ExternalIdentity.prepare` for requests carrying a bearer token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            token = _bearer(scope)
            auth = scope.get("state", {}).get("auth") if token is not None else None
            if token is not None and isinstance(auth, Auth) and auth.external is not None:
                await auth.external.prepare(auth.verifier, token)
        await self.app(scope, receive, send)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer":
                return None
            return token.strip() or None
    return None


def external_issuer(settings: AuthSettings) -> tuple[str, list[str]]:
    """The issuer and audiences external tokens must carry (the Supabase preset's by default)."""
    if settings.provider == "supabase" and settings.supabase_url:
        project = SupabaseProject(settings.supabase_url)
        issuer = project.issuer if settings.issuer == LOCAL_ISSUER else settings.issuer
        audience = project.audience if settings.audience == LOCAL_AUDIENCE else settings.audience
        return issuer, audience
    return settings.issuer, settings.audience


def provider_problems(settings: AuthSettings, env: Environment, db_enabled: bool) -> list[str]:
    """Why these provider settings cannot start, each naming its environment variable."""
    provider = settings.provider
    if provider == "local":
        if not db_enabled:
            return [
                "FASTER_AUTH_PROVIDER=local keeps accounts in the database: enable the 'db' "
                "plugin, or verify an external issuer's tokens (FASTER_AUTH_PROVIDER=jwks, "
                "oidc or supabase)"
            ]
        return []
    if provider == "supabase":
        return _supabase_problems(settings, env)
    problems = []
    if settings.issuer == LOCAL_ISSUER:
        problems.append(f"FASTER_AUTH_ISSUER is required with FASTER_AUTH_PROVIDER={provider}")
    if settings.audience == LOCAL_AUDIENCE:
        problems.append(f"FASTER_AUTH_AUDIENCE is required with FASTER_AUTH_PROVIDER={provider}")
    if provider == "jwks" and not settings.jwks_url:
        problems.append("FASTER_AUTH_JWKS_URL is required with FASTER_AUTH_PROVIDER=jwks")
    if settings.supabase_jwt_secret is not None:
        problems.append("FASTER_AUTH_SUPABASE_JWT_SECRET needs FASTER_AUTH_PROVIDER=supabase")
    url = settings.jwks_url if provider == "jwks" else settings.issuer
    variable = "FASTER_AUTH_JWKS_URL" if provider == "jwks" else "FASTER_AUTH_ISSUER"
    problems.extend(_url_problems(url, variable, env))
    return problems + _algorithm_problems(settings)


def _supabase_problems(settings: AuthSettings, env: Environment) -> list[str]:
    if not settings.supabase_url:
        return ["FASTER_AUTH_SUPABASE_URL is required with FASTER_AUTH_PROVIDER=supabase"]
    problems = _url_problems(settings.supabase_url, "FASTER_AUTH_SUPABASE_URL", env)
    secret = settings.supabase_jwt_secret
    if secret is not None and len(secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
        problems.append(
            f"FASTER_AUTH_SUPABASE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"
        )
    if secret is not None and settings.jwks_url:
        problems.append(
            "FASTER_AUTH_SUPABASE_JWT_SECRET (legacy HS256) and FASTER_AUTH_JWKS_URL exclude "
            "each other: a shared secret is never mixed with asymmetric keys"
        )
    return problems + _algorithm_problems(settings)


def _url_problems(url: str | None, variable: str, env: Environment) -> list[str]:
    if url is None:
        return []
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return [f"{variable} must be an http(s) URL"]
    if env is Environment.PRODUCTION and parts.scheme != "https":
        return [f"{variable} must use https in production"]
    return []


def _algorithm_problems(settings: AuthSettings) -> list[str]:
    unknown = sorted(set(settings.external_algorithms) - ASYMMETRIC_ALGORITHMS)
    if unknown:
        allowed = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
        return [f"FASTER_AUTH_EXTERNAL_ALGORITHMS: {', '.join(unknown)} not in {allowed}"]
    return []


@asynccontextmanager
async def open_auth(
    settings: AuthSettings, env: Environment, database: Database | None
) -> AsyncIterator[Auth]:
    """The app's `Auth` for the configured provider, its network clients closed at the end."""
    if settings.provider == "local":
        yield Auth.from_settings(settings, env)
        return
    async with AsyncExitStack() as stack:
        identity = await _external_identity(settings, env, database, stack)
        yield _external_auth(settings, identity)


async def _external_identity(
    settings: AuthSettings, env: Environment, database: Database | None, stack: AsyncExitStack
) -> ExternalIdentity:
    issuer, _ = external_issuer(settings)
    mirror = None
    if database is not None and settings.mirror_users:
        mirror = UserMirror(
            database,
            issuer=issuer,
            email_claim=settings.email_claim,
            name_claim=_name_claim(settings),
            cache_size=settings.mirror_cache_size,
        )
        stack.push_async_callback(mirror.aclose)  # before the db plugin closes the database
    supabase = await _supabase_admin(settings, stack)
    if settings.provider == "supabase" and settings.supabase_jwt_secret is not None:
        return ExternalIdentity(settings.provider, None, mirror, supabase)
    http = await stack.enter_async_context(_http_client(settings.jwks_timeout))
    keys = JWKSCache(
        http,
        _locator(settings, env),
        algorithms=settings.external_algorithms,
        ttl=settings.jwks_ttl,
        timeout=settings.jwks_timeout,
        cooldown=settings.jwks_cooldown,
        stale_for=settings.jwks_stale_for,
        retry_after=settings.jwks_retry_after,
    )
    stack.push_async_callback(keys.aclose)
    settings.identity_metrics.keys = keys
    stack.callback(setattr, settings.identity_metrics, "keys", None)
    await keys.start()
    return ExternalIdentity(settings.provider, keys, mirror, supabase)


def _external_auth(settings: AuthSettings, identity: ExternalIdentity) -> Auth:
    issuer, audience = external_issuer(settings)
    source: KeySource
    if identity.keys is not None:
        source = identity.keys
    elif settings.supabase_jwt_secret is not None:
        source = LegacySecret(settings.supabase_jwt_secret.get_secret_value().encode())
    else:  # pragma: no cover - provider_problems refuses this at start-up
        source = StaticKeys({})
    verifier = TokenVerifier(
        source,
        issuer=issuer,
        audience=audience,
        leeway=settings.leeway,
        max_token_bytes=settings.max_token_bytes,
        roles_claim=settings.roles_claim,
        token_type=settings.token_type,
        cache_size=settings.token_cache_size,
    )
    users = UserGate(issuer, settings.status_cache_ttl)
    return Auth(settings, None, None, verifier, PasswordHasher(), users, external=identity)


def _locator(settings: AuthSettings, env: Environment) -> Any:
    if settings.provider == "oidc":
        return Discovery(settings.issuer, require_https=env is Environment.PRODUCTION)
    if settings.provider == "supabase" and settings.supabase_url and not settings.jwks_url:
        return static_location(SupabaseProject(settings.supabase_url).jwks_url)
    return static_location(settings.jwks_url or "")  # provider_problems requires it


def _name_claim(settings: AuthSettings) -> str:
    if settings.provider == "supabase" and settings.name_claim == "name":
        return "user_metadata.full_name"
    return settings.name_claim


async def _supabase_admin(settings: AuthSettings, stack: AsyncExitStack) -> SupabaseAdmin | None:
    if settings.supabase_url is None or settings.supabase_service_key is None:
        return None
    client = await stack.enter_async_context(_http_client(settings.supabase_timeout))
    return SupabaseAdmin(
        client,
        SupabaseProject(settings.supabase_url),
        settings.supabase_service_key,
        email_claim=settings.email_claim,
        name_claim=_name_claim(settings),
    )


def _http_client(timeout: float) -> httpx.AsyncClient:
    # No redirects (a key set is where it is configured to be), no proxies from the environment.
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)


def external_routers(settings: AuthSettings, *, db_enabled: bool) -> list[APIRouter]:
    """The routes of an external provider: Supabase's event endpoints, with a user mirror."""
    if settings.provider != "supabase" or not db_enabled:
        return []
    return [supabase_router(settings.routes_prefix)]


def external_middleware(settings: AuthSettings) -> list[MiddlewareSpec]:
    if settings.provider not in EXTERNAL_PROVIDERS:
        return []
    return [MiddlewareSpec(ExternalIdentityMiddleware, Slot.DEFAULT)]


def external_health_checks(settings: AuthSettings) -> list[HealthCheck]:
    """`identity-provider`: its keys are known (degraded while stale); critical to readiness."""
    if settings.provider not in EXTERNAL_PROVIDERS or settings.supabase_jwt_secret is not None:
        return []
    return [HealthCheck("identity-provider", _check_keys, critical=True)]


async def _check_keys(app: FastAPI) -> CheckResult:
    auth = getattr(app.state, "auth", None)
    keys = auth.external.keys if isinstance(auth, Auth) and auth.external else None
    if keys is None:
        raise RuntimeError("the identity provider's key cache is not running")
    if not keys.warm:
        raise RuntimeError("no key of the identity provider is known")
    if keys.stale:
        return CheckResult(degraded=True, detail="keys are stale: the issuer is unreachable")
    return CheckResult()
