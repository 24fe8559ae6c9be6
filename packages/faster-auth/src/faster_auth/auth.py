"""`Auth`: the auth plugin's per-app state (key, issuer, verifier), built in its lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faster_auth.keys import SigningKey, load_signing_key
from faster_auth.passwords import PasswordHasher
from faster_auth.settings import AuthSettings
from faster_auth.tokens import TokenIssuer, TokenVerifier, TrustedKey
from faster_auth.user_status import UserGate
from faster_core import Environment

__all__ = ["Auth"]


@dataclass(frozen=True)
class Auth:
    """What the auth plugin yields as lifespan state: `request.state.auth`, `app.state.auth`."""

    settings: AuthSettings
    signing_key: SigningKey
    issuer: TokenIssuer
    verifier: TokenVerifier
    passwords: PasswordHasher
    users: UserGate

    @classmethod
    def from_settings(cls, settings: AuthSettings, env: Environment) -> Auth:
        key = load_signing_key(settings, env)
        issuer = TokenIssuer(
            key,
            issuer=settings.issuer,
            audience=settings.audience[0],
            ttl=settings.access_token_ttl,
            roles_claim=settings.roles_claim,
        )
        verifier = TokenVerifier(
            {key.kid: TrustedKey(key.public_key, key.algorithm)},
            issuer=settings.issuer,
            audience=settings.audience,
            leeway=settings.leeway,
            max_token_bytes=settings.max_token_bytes,
            roles_claim=settings.roles_claim,
            cache_size=settings.token_cache_size,
        )
        users = UserGate(settings.issuer, settings.status_cache_ttl)
        return cls(settings, key, issuer, verifier, PasswordHasher(), users)

    def jwks(self) -> dict[str, Any]:
        """The public JSON Web Key Set: public members only, never the private key."""
        return {"keys": [dict(self.signing_key.public_jwk)]}
