"""A JSON Web Key Set cache for external issuers: keys on the request path, never the network.

Verification only reads the cached keys. The network is reached by `refresh()`, which every
caller shares (single flight: one fetch in flight at a time, however many requests wait), and
it is asked for in three cases:

- at start-up (`start()`), so the first request usually finds the keys warm;
- when the keys are older than the TTL, in the background (requests go on with the cached keys);
- when a plausible token names an unknown `kid` (`refresh_for(kid)`, awaited by that request so
  a rotated key works on first use), at most once per cooldown: a flood of forged `kid`s costs
  one fetch per cooldown, not one per token.

When the issuer cannot be reached, the keys fetched last stay trusted for a bounded window
(`FASTER_AUTH_JWKS_STALE_FOR` past their TTL), so signed-in users keep working through an
outage; past it, or before any fetch succeeded, verification answers 503 with `Retry-After`
rather than a 401 that would sign everybody out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import httpx
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.exceptions import InvalidKeyError

from faster_auth.exceptions import IdentityProviderUnavailableError
from faster_auth.oidc import get_json
from faster_auth.tokens import TrustedKey

__all__ = ["ASYMMETRIC_ALGORITHMS", "JWKSCache", "parse_jwks"]

logger = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"})
# The one algorithm a key without an `alg` member may be used with, by key type and curve.
_DEFAULT_ALGORITHM: dict[tuple[Any, Any], str] = {
    ("RSA", None): "RS256",
    ("EC", "P-256"): "ES256",
    ("EC", "P-384"): "ES384",
    ("OKP", "Ed25519"): "EdDSA",
}
_PARSERS: dict[Any, Any] = {"RSA": RSAAlgorithm, "EC": ECAlgorithm, "OKP": OKPAlgorithm}
_MAX_JWKS_BYTES = 512 * 1024

Locator = Callable[[httpx.AsyncClient], Awaitable[str]]


def parse_jwks(document: Any, algorithms: Iterable[str]) -> dict[str, TrustedKey]:
    """The usable signing keys of a JWKS document by `kid`; anything else is skipped.

    A key is used with one algorithm: its own `alg`, or the one its type implies; either must
    be in `algorithms` (asymmetric only). Keys without a `kid`, for encryption, private or
    symmetric are ignored.
    """
    allowed = frozenset(algorithms) & ASYMMETRIC_ALGORITHMS
    entries = document.get("keys") if isinstance(document, Mapping) else None
    keys: dict[str, TrustedKey] = {}
    for jwk in entries if isinstance(entries, list) else []:
        trusted = _trusted(jwk, allowed)
        if trusted is not None:
            keys[jwk["kid"]] = trusted
    return keys


def _trusted(jwk: Any, allowed: frozenset[str]) -> TrustedKey | None:
    if not isinstance(jwk, Mapping) or not isinstance(jwk.get("kid"), str):
        return None
    kty, crv = jwk.get("kty"), jwk.get("crv")
    algorithm = jwk.get("alg") or _DEFAULT_ALGORITHM.get((kty, None if kty == "RSA" else crv))
    parser = _PARSERS.get(kty)
    if jwk.get("use", "sig") != "sig" or "d" in jwk or algorithm not in allowed or not parser:
        return None
    try:
        key = parser.from_jwk(json.dumps(dict(jwk)))
    except (InvalidKeyError, ValueError, TypeError, KeyError):
        return None
    if not hasattr(key, "verify") or hasattr(key, "sign"):
        return None  # a private key in a public key set: never trust it
    return TrustedKey(key, algorithm)


class JWKSCache:
    """The keys of one external issuer, fetched with `client` from the URL `locate` gives."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        locate: Locator,
        *,
        algorithms: Iterable[str],
        ttl: float,
        timeout: float,
        cooldown: float,
        stale_for: float,
        retry_after: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._locate = locate
        self._algorithms = frozenset(algorithms)
        self._ttl = ttl
        self._timeout = timeout
        self._cooldown = cooldown
        self._stale_for = stale_for
        self._retry_after = retry_after
        self._clock = clock
        self._keys: dict[str, TrustedKey] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._unknown_kid_at: float | None = None
        self._inflight: asyncio.Task[bool] | None = None
        self._background: set[asyncio.Task[bool]] = set()
        self.fetches = 0
        self.failures = 0

    # -- read side: never awaits ------------------------------------------------------------

    def key_for(self, kid: str | None) -> TrustedKey | None:
        if kid is None or not self._usable():
            return None
        self._refresh_when_due()
        return self._keys.get(kid)

    def check_available(self) -> None:
        if not self._usable():
            raise IdentityProviderUnavailableError(retry_after=self._retry_after)

    @property
    def warm(self) -> bool:
        return self._usable()

    @property
    def stale(self) -> bool:
        return self._ttl <= self._age() < float("inf")

    def _usable(self) -> bool:
        return self._age() < self._ttl + self._stale_for

    def _age(self) -> float:
        """Seconds since the last successful fetch (infinite before the first)."""
        if self._fetched_at is None:
            return float("inf")
        return self._clock() - self._fetched_at

    def _refresh_when_due(self) -> None:
        if not self.stale or self._inflight is not None or self._recently_failed():
            return
        task = asyncio.get_running_loop().create_task(self.refresh())
        self._background.add(task)  # a reference, or the loop may drop the task mid-flight
        task.add_done_callback(self._background.discard)

    def _recently_failed(self) -> bool:
        # A failed fetch is not retried for `retry_after` seconds: an outage is not hammered.
        return self._failed_at is not None and self._clock() - self._failed_at < self._retry_after

    # -- write side ---------------------------------------------------------------------------

    async def start(self) -> None:
        """The first fetch; an unreachable issuer is logged, not fatal (requests will 503)."""
        if not await self.refresh():
            logger.warning("identity provider keys unavailable at start-up; retrying on demand")

    async def refresh_for(self, kid: str) -> None:
        """Fetch the keys again for an unknown `kid`, unless a cooldown or an outage says no."""
        if kid in self._keys and self._usable():
            return
        if self._inflight is not None:  # a fetch is under way: its keys may hold this kid
            await asyncio.shield(self._inflight)
            return
        now = self._clock()
        last = self._unknown_kid_at
        if self._usable() and last is not None and now - last < self._cooldown:
            return
        if not self._usable() and self._recently_failed():
            return
        self._unknown_kid_at = now
        await self.refresh()

    async def refresh(self) -> bool:
        """Fetch the key set, sharing a fetch already in flight; whether keys are now known."""
        if self._inflight is None:
            self._inflight = asyncio.get_running_loop().create_task(self._fetch())
            self._inflight.add_done_callback(self._clear_inflight)
        return await asyncio.shield(self._inflight)

    def _clear_inflight(self, task: asyncio.Task[bool]) -> None:
        if self._inflight is task:
            self._inflight = None

    async def _fetch(self) -> bool:
        self.fetches += 1
        try:
            async with asyncio.timeout(self._timeout):  # bounds a server that trickles bytes
                url = await self._locate(self._client)
                document = await get_json(self._client, url, _MAX_JWKS_BYTES)
        except (httpx.HTTPError, ValueError, TimeoutError, IdentityProviderUnavailableError) as exc:
            self.failures += 1
            self._failed_at = self._clock()
            logger.warning("fetching the identity provider's keys failed: %s", type(exc).__name__)
            return self._usable()
        keys = parse_jwks(document, self._algorithms)
        if not keys:
            self.failures += 1
            self._failed_at = self._clock()
            logger.warning("the identity provider's key set has no usable signing key")
            return self._usable()
        self._keys, self._fetched_at, self._failed_at = keys, self._clock(), None
        logger.info("identity provider keys refreshed: %s keys", len(keys))
        return True

    async def aclose(self) -> None:
        """Cancel the fetches still running (at shutdown)."""
        tasks = [*self._background, *([self._inflight] if self._inflight else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
