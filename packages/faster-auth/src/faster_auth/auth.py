"""`Auth`: the auth plugin's per-app state (key, issuer, verifier), built in its lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faster_auth.exceptions import AuthConfigurationError
from faster_auth.keys import SigningKey, load_signing_key
from faster_auth.passwords import PasswordHasher
from faster_auth.settings import AuthSettings
from faster_auth.tokens import TokenIssuer, TokenVerifier, TrustedKey
from faster_auth.user_status import UserGate
from faster_core import Environment

if TYPE_CHECKING:
    from faster_auth.providers import ExternalIdentity

__all__ = ["Auth"]

_LOCAL_ONLY = "FASTER_AUTH_PROVIDER={} verifies an external issuer's tokens: this app signs none"


@dataclass(frozen=True)
class Auth:
    """What the auth plugin yields as lifespan state: `request.state.auth`, `app.state.auth`.

    `local_key` and `token_issuer` exist for the local provider only; with an external one
    (`jwks`, `oidc`, `supabase`) this app verifies tokens and never signs any.
    """

    settings: AuthSettings
    local_key: SigningKey | None
    token_issuer: TokenIssuer | None
    verifier: TokenVerifier
    passwords: PasswordHasher
    users: UserGate
    # Identity providers (auth-external): the external issuer's key cache and user mirror.
    external: ExternalIdentity | None = None

    @property
    def signing_key(self) -> SigningKey:
        """The local provider's signing key; `AuthConfigurationError` for other providers."""
        if self.local_key is None:
            raise AuthConfigurationError(_LOCAL_ONLY.format(self.settings.provider))
        return self.local_key

    @property
    def issuer(self) -> TokenIssuer:
        """The local provider's token issuer; `AuthConfigurationError` for other providers."""
        if self.token_issuer is None:
            raise AuthConfigurationError(_LOCAL_ONLY.format(self.settings.provider))
        return self.token_issuer

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
        return {"keys": [dict(self.local_key.public_jwk)] if self.local_key is not None else []}
