"""The auth plugin's settings, read from `FASTER_AUTH_*` when an app is created."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from faster_core import Environment, PluginSettings
from faster_core.settings import CommaList

__all__ = ["MAX_LEEWAY", "AuthSettings", "unsafe_auth_settings"]

MAX_LEEWAY = 300

Algorithm = Literal["EdDSA", "ES256"]


class AuthSettings(PluginSettings):
    """`FASTER_AUTH_*`: which identity provider, which key, and how tokens are checked."""

    provider: Literal["local"] = "local"
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


def unsafe_auth_settings(settings: AuthSettings, env: Environment) -> list[str]:
    """Reasons these settings are unsafe in `env`, each naming its environment variable."""
    problems: list[str] = []
    if settings.private_key is not None and settings.private_key_file is not None:
        problems.append("set only one of FASTER_AUTH_PRIVATE_KEY and FASTER_AUTH_PRIVATE_KEY_FILE")
    if env is Environment.PRODUCTION and not settings.has_explicit_key:
        problems.append(
            "FASTER_AUTH_PRIVATE_KEY (a PEM) or FASTER_AUTH_PRIVATE_KEY_FILE is required in "
            "production: a generated development key is never used there"
        )
    return problems
