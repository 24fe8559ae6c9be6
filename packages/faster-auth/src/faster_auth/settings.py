"""The auth plugin's settings, read from `FASTER_AUTH_*` when an app is created."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator

from faster_auth._identity_metrics import IdentityMetrics
from faster_auth.outcomes import AuthOutcomes
from faster_core import Environment, PluginSettings
from faster_core.settings import CommaList

__all__ = ["MAX_LEEWAY", "AuthSettings", "unsafe_auth_settings"]

MAX_LEEWAY = 300

Algorithm = Literal["EdDSA", "ES256"]
Provider = Literal["local", "jwks", "oidc", "supabase"]


class AuthSettings(PluginSettings):
    """`FASTER_AUTH_*`: which identity provider, which key, and how tokens are checked."""

    provider: Provider = "local"
    algorithm: Algorithm = "EdDSA"
    private_key: SecretStr | None = Field(default=None, repr=False)
    private_key_file: Path | None = None
    generated_key_file: Path = Path(".faster-auth-key.pem")
    issuer: str = Field(default="urn:faster:local", min_length=1)
    audience: CommaList = Field(default_factory=lambda: ["faster"])
    leeway: int = Field(default=30, ge=0)
    access_token_ttl: int = Field(default=900, gt=0)
    max_token_bytes: int = Field(default=8192, ge=256)
    token_cache_size: int = Field(default=4096, ge=0)
    roles_claim: str = "roles"
    status_cache_ttl: float = Field(default=1.0, ge=0, le=1.0)
    jwks_path: str = "/.well-known/jwks.json"
    refresh_token_ttl: int = Field(default=30 * 24 * 3600, gt=0)
    password_min_length: int = Field(default=10, ge=8, le=128)
    routes_prefix: str = "/auth"

    # Account flows, audit trail and onboarding (auth-accounts): see the README's "Accounts".
    password_max_length: int = Field(default=256, ge=16, le=1024)  # passwords.MAX_PASSWORD_LENGTH
    password_check_common: bool = True
    password_reset_ttl: int = Field(default=3600, gt=0, le=7 * 24 * 3600)
    password_reset_url: str = "http://localhost:8000/reset-password"  # noqa: S105 - a URL
    email_verification_ttl: int = Field(default=3 * 24 * 3600, gt=0, le=30 * 24 * 3600)
    email_verification_url: str = "http://localhost:8000/verify-email"
    verify_email_on_register: bool = True
    onboarding_steps: CommaList = Field(default_factory=list)
    audit_enabled: bool = True
    audit_queue_size: int = Field(default=10_000, ge=1)
    audit_batch_size: int = Field(default=500, ge=1, le=5000)

    # Revocation, abuse limits and authorization (auth-guard): see the README's sections.
    revocation_failure: Literal["closed", "open"] = "closed"
    revocation_cache_ttl: float = Field(default=1.0, ge=0, le=1.0)
    revocation_user_retention: int = Field(default=24 * 3600, gt=0)
    sign_in_max_failures: int = Field(default=100, gt=0)
    sign_in_max_failures_per_ip: int = Field(default=1000, gt=0)
    sign_in_failure_window: int = Field(default=3600, gt=0)
    trusted_proxies: CommaList = Field(default_factory=list)
    permissions_cache_ttl: float = Field(default=1.0, ge=0, le=1.0)
    tag_roles: dict[str, list[str]] = Field(default_factory=dict)
    deny_by_default: bool = False
    public_paths: CommaList = Field(default_factory=list)

    # Identity providers (auth-external): see the README's "Identity providers".
    jwks_url: str | None = None
    token_type: str | None = None
    external_algorithms: CommaList = Field(default_factory=lambda: ["RS256", "ES256", "EdDSA"])
    email_claim: str = "email"
    name_claim: str = "name"
    jwks_ttl: float = Field(default=600.0, gt=0)
    jwks_timeout: float = Field(default=5.0, gt=0, le=60)
    jwks_cooldown: float = Field(default=30.0, ge=0)
    jwks_stale_for: float = Field(default=6 * 3600.0, ge=0, le=7 * 24 * 3600)
    jwks_retry_after: int = Field(default=30, ge=1, le=3600)
    mirror_users: bool = True
    mirror_cache_size: int = Field(default=65536, ge=0)
    supabase_url: str | None = None
    supabase_jwt_secret: SecretStr | None = Field(default=None, repr=False)
    supabase_service_key: SecretStr | None = Field(default=None, repr=False)
    supabase_timeout: float = Field(default=10.0, gt=0, le=60)
    # Not a setting: this app's key cache, which faster-observability's metrics report on.
    _identity_metrics: IdentityMetrics = PrivateAttr(default_factory=IdentityMetrics)
    # Not a setting either: this app's outcome counters (see `faster_auth.outcomes`).
    _outcomes: AuthOutcomes = PrivateAttr(default_factory=AuthOutcomes)

    @field_validator("audience")
    @classmethod
    def _not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("FASTER_AUTH_AUDIENCE must list at least one audience")
        return value

    @field_validator("leeway")
    @classmethod
    def _bounded_leeway(cls, value: int) -> int:
        if value > MAX_LEEWAY:
            raise ValueError(f"FASTER_AUTH_LEEWAY must be at most {MAX_LEEWAY} seconds")
        return value

    @property
    def has_explicit_key(self) -> bool:
        return self.private_key is not None or self.private_key_file is not None

    @property
    def identity_metrics(self) -> IdentityMetrics:
        return self._identity_metrics

    @property
    def outcomes(self) -> AuthOutcomes:
        """This app's auth outcome counters (exported when faster-observability runs)."""
        return self._outcomes


def unsafe_auth_settings(settings: AuthSettings, env: Environment) -> list[str]:
    """Reasons these settings are unsafe in `env`, each naming its environment variable."""
    problems: list[str] = []
    if settings.private_key is not None and settings.private_key_file is not None:
        problems.append("set only one of FASTER_AUTH_PRIVATE_KEY and FASTER_AUTH_PRIVATE_KEY_FILE")
    local = settings.provider == "local"
    if env is Environment.PRODUCTION and local and not settings.has_explicit_key:
        problems.append(
            "FASTER_AUTH_PRIVATE_KEY (a PEM) or FASTER_AUTH_PRIVATE_KEY_FILE is required in "
            "production: a generated development key is never used there"
        )
    return problems
