"""Issuing and verifying access tokens with PyJWT.

Verification trusts configuration, never the token: the algorithm is the one configured next to
each trusted key, `kid` only selects among those keys, and `jku`, `x5u` and embedded `jwk`
headers are never looked at. Every failure becomes one `InvalidTokenError`.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import jwt

from faster_auth.exceptions import InvalidTokenError
from faster_auth.keys import PublicKey, SigningKey

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "KeySource",
    "StaticKeys",
    "TokenIssuer",
    "TokenVerifier",
    "TrustedKey",
    "VerifiedToken",
    "claim_at",
]

logger = logging.getLogger(__name__)

# RFC 9068: an access token cannot pass for another kind of JWT.
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
_REQUIRED_CLAIMS = ["exp", "iat", "sub"]
_SANE_KID = re.compile(r"(?!.*\.\.)[A-Za-z0-9_.:=+/-]{1,128}")


@dataclass(frozen=True)
class TrustedKey:
    """A key the verifier accepts, with the one algorithm it may be used with.

    A public key for the asymmetric algorithms; the shared secret (bytes) only for an explicitly
    configured HS256 source, which then holds that one key and nothing else.
    """

    key: PublicKey | bytes = field(repr=False)
    algorithm: str


class KeySource(Protocol):
    """Where a verifier finds the key a token's `kid` names; it never fetches while asked."""

    def key_for(self, kid: str | None) -> TrustedKey | None:
        """The trusted key `kid` selects, or `None`."""

    def check_available(self) -> None:
        """Raise a `ProblemError` (a 503) when the source cannot vouch for any key at all."""


class StaticKeys:
    """A fixed set of keys by `kid` (the local provider's own key, a test's keys)."""

    def __init__(self, keys: Mapping[str, TrustedKey]) -> None:
        self._keys = dict(keys)

    def key_for(self, kid: str | None) -> TrustedKey | None:
        return self._keys.get(kid) if kid is not None else None

    def check_available(self) -> None:
        return None


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The claim at a dotted `path` (`app_metadata.roles`), or `None` when absent."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


@dataclass(frozen=True)
class VerifiedToken:
    """The claims of a token whose signature, issuer, audience and times were checked."""

    subject: str
    token_id: str | None
    issued_at: int
    expires_at: int
    roles: frozenset[str]
    claims: Mapping[str, Any]


class TokenVerifier:
    """Checks access tokens against trusted keys, an exact issuer and an audience allow-list.

    A verified token's claims are cached (bounded, oldest out first) until its `exp` plus the
    leeway: a signature check costs tens of microseconds, a dictionary look-up almost nothing.
    Only successes are cached, and only what a verification with the same keys would repeat.
    """

    def __init__(
        self,
        keys: Mapping[str, TrustedKey] | KeySource,
        *,
        issuer: str,
        audience: Sequence[str],
        leeway: int,
        max_token_bytes: int,
        roles_claim: str = "roles",
        token_type: str | None = ACCESS_TOKEN_TYPE,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys: KeySource = StaticKeys(keys) if isinstance(keys, Mapping) else keys
        self._issuer = issuer
        self._audience = list(audience)
        self._leeway = leeway
        self._max_token_bytes = max_token_bytes
        self._roles_claim = roles_claim
        self._token_type = token_type
        self._jwt = jwt.PyJWT()
        self._cache: dict[str, VerifiedToken] = {}
        self._cache_size = cache_size
        self._clock = clock

    def cached(self, token: str) -> VerifiedToken | None:
        """The token's claims when this verifier accepted it before and it has not expired."""
        hit = self._cache.get(token)
        if hit is None or self._clock() >= hit.expires_at + self._leeway:
            return None
        return hit

    def unexpired(self, verified: VerifiedToken) -> bool:
        """Whether `verified` (claims this verifier accepted) is still within `exp` + leeway."""
        return self._clock() < verified.expires_at + self._leeway

    def wanted_kid(self, token: str) -> str | None:
        """The `kid` of a plausible token whose key is not known (yet), else `None`.

        Plausible means small, well formed, the expected `typ`, no `crit`, a sane `kid`, our
        issuer and not expired: a forged header alone rarely makes a key source refresh (and a
        key source refreshes at most once per cooldown anyway). Nothing here is trusted.
        """
        if len(token) > self._max_token_bytes or token in self._cache:
            return None
        try:
            header = jwt.get_unverified_header(token)
            claims = self._jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        kid = header.get("kid")
        plausible = (
            isinstance(kid, str)
            and _SANE_KID.fullmatch(kid) is not None
            and "crit" not in header
            and (self._token_type is None or header.get("typ") == self._token_type)
            and claims.get("iss") == self._issuer
            and isinstance(claims.get("exp"), int | float)
            and claims["exp"] > self._clock() - self._leeway
        )
        if not plausible or self._keys.key_for(kid) is not None:
            return None
        return kid

    def verify(self, token: str) -> VerifiedToken:
        """The token's verified claims; `InvalidTokenError` for any failure at all."""
        cached = self._cache.get(token)
        if cached is not None:
            if self._clock() < cached.expires_at + self._leeway:
                return cached
            del self._cache[token]
            raise InvalidTokenError("expired")
        if len(token) > self._max_token_bytes:
            raise InvalidTokenError("token too large")
        try:
            verified = self._verify(token)
        except jwt.PyJWTError as exc:
            logger.debug("token refused: %s", type(exc).__name__)
            raise InvalidTokenError(type(exc).__name__) from exc
        self._remember(token, verified)
        return verified

    def _remember(self, token: str, verified: VerifiedToken) -> None:
        if self._cache_size <= 0:
            return
        if len(self._cache) >= self._cache_size:
            del self._cache[next(iter(self._cache))]
        self._cache[token] = verified

    def _verify(self, token: str) -> VerifiedToken:
        header = jwt.get_unverified_header(token)
        trusted = self._trusted_key(header)
        claims: dict[str, Any] = self._jwt.decode(
            token,
            trusted.key,
            algorithms=[trusted.algorithm],
            issuer=self._issuer,
            audience=self._audience,
            leeway=self._leeway,
            # Times are checked below against our own clock (testable, and one rule for all).
            options={
                "require": _REQUIRED_CLAIMS,
                "verify_signature": True,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
        if claims.get("iss") != self._issuer:  # exact, whatever the library's matching rules
            raise InvalidTokenError("issuer mismatch")
        self._check_times(claims)
        return self._verified(claims)

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        times = [claims["exp"], claims["iat"], claims.get("nbf", 0)]
        if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in times):
            raise InvalidTokenError("bad time claim")
        expires, issued, not_before = times
        if expires <= now - self._leeway:
            raise InvalidTokenError("expired")
        if issued > now + self._leeway or not_before > now + self._leeway:
            raise InvalidTokenError("not yet valid")

    def _trusted_key(self, header: Mapping[str, Any]) -> TrustedKey:
        if "crit" in header:  # RFC 7515 4.1.11: we understand no extension, so we must refuse
            raise InvalidTokenError("critical header")
        if self._token_type is not None and header.get("typ") != self._token_type:
            raise InvalidTokenError("wrong token type")
        kid = header.get("kid")
        trusted = self._keys.key_for(kid if isinstance(kid, str) else None)
        if trusted is None:
            self._keys.check_available()  # an unreachable issuer is a 503, never a 401
            raise InvalidTokenError("unknown key id")
        if header.get("alg") != trusted.algorithm:
            raise InvalidTokenError("algorithm not allowed for this key")
        return trusted

    def _verified(self, claims: dict[str, Any]) -> VerifiedToken:
        subject, token_id = claims["sub"], claims.get("jti")
        if not isinstance(subject, str) or not subject:
            raise InvalidTokenError("bad subject")
        if token_id is not None and not isinstance(token_id, str):
            raise InvalidTokenError("bad token id")
        roles = claim_at(claims, self._roles_claim)
        roles = [] if roles is None else roles
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise InvalidTokenError("bad roles claim")
        return VerifiedToken(
            subject, token_id, int(claims["iat"]), int(claims["exp"]), frozenset(roles), claims
        )


class TokenIssuer:
    """Signs the local provider's access tokens."""

    def __init__(
        self, key: SigningKey, *, issuer: str, audience: str, ttl: int, roles_claim: str = "roles"
    ) -> None:
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl
        self._roles_claim = roles_claim

    def issue(
        self,
        subject: str,
        *,
        roles: Sequence[str] = (),
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed access token for `subject` with `iss`, `aud`, `sub`, `iat`, `exp`, `jti`."""
        now = int(time.time())
        claims = {
            **(extra_claims or {}),
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": now,
            "exp": now + self._ttl,
            "jti": secrets.token_urlsafe(16),
            self._roles_claim: sorted(set(roles)),
        }
        headers = {"kid": self._key.kid, "typ": ACCESS_TOKEN_TYPE}
        return jwt.encode(claims, self._key.private_key, self._key.algorithm, headers=headers)
