"""Typed settings: the core's own (`FASTER_*`) and the base class for each plugin's.

Nothing here reads the environment at import; settings are read when an app is created.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = [
    "CommaList",
    "Environment",
    "FasterSettings",
    "FeatureFlag",
    "PluginSettings",
    "split_comma_list",
    "unsafe_settings",
]

MIB = 1024 * 1024


def split_comma_list(value: Any) -> Any:
    """One env var's text as a list: JSON (`["a", "b"]`) or comma separated (`a, b`).

    Use it as `Annotated[list[T], NoDecode, BeforeValidator(split_comma_list)]`; values that are
    not text pass through to the field's own validation.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(split_comma_list)]
"""A list of strings read from one env var, as JSON or comma separated."""


class Environment(StrEnum):
    """Where the app runs; production turns on the safety checks."""

    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


class FeatureFlag(BaseModel):
    """One feature flag: a default, per-environment values, and an explicit override.

    Resolution: `enabled` when set, else the value for the current environment, else `default`.
    A bare boolean (`FASTER_FLAGS__BETA=true`) sets `enabled`.
    """

    default: bool = False
    environments: dict[Environment, bool] = Field(default_factory=dict)
    enabled: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _scalar_is_override(cls, value: Any) -> Any:
        if isinstance(value, bool | str | int):
            return {"enabled": value}
        return value

    def is_enabled(self, env: Environment) -> bool:
        if self.enabled is not None:
            return self.enabled
        return self.environments.get(env, self.default)


class FasterSettings(BaseSettings):
    """The core's settings, read from `FASTER_*` environment variables and `.env`."""

    model_config = SettingsConfigDict(
        env_prefix="FASTER_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
    )

    env: Environment = Environment.DEVELOPMENT
    debug: bool = False
    title: str = "Faster"
    docs: bool | None = Field(
        default=None, description="Serve /docs and /openapi.json; default: on except production."
    )

    plugins: CommaList | None = Field(
        default=None, description="Installed plugins to enable; default: every installed plugin."
    )
    disabled_plugins: CommaList = Field(default_factory=list)
    plugin_settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Per-plugin overrides by plugin name, applied over its FASTER_<NAME>_* values.",
    )

    cors_origins: CommaList = Field(default_factory=list)
    cors_allow_credentials: bool = False
    cors_allow_methods: CommaList = Field(
        default_factory=lambda: ["GET", "POST", "PUT", "PATCH", "DELETE"]
    )
    cors_allow_headers: CommaList = Field(
        default_factory=lambda: ["Authorization", "Content-Type", "X-Request-ID"]
    )
    trusted_hosts: CommaList = Field(default_factory=lambda: ["*"])
    gzip_minimum_size: int | None = Field(default=500, description="None turns GZip off.")
    max_body_size: int = Field(default=MIB, gt=0)
    hsts_max_age: int = Field(default=31_536_000, ge=0)

    health_timeout: float = Field(default=2.0, gt=0)
    flags: dict[str, FeatureFlag] = Field(default_factory=dict)
    gc_freeze: bool | None = Field(
        default=None,
        description="Once every plugin has started, move the objects then alive out of the "
        "garbage collector's reach (`gc.freeze()`; undone at shutdown), so that full collections "
        "stop traversing the modules and start-up state, and are spaced further apart while frozen "
        "(see `compose_lifespan`). Default: on except in the test environment (test sessions "
        "start many apps).",
    )

    @property
    def gc_freeze_enabled(self) -> bool:
        return self.gc_freeze if self.gc_freeze is not None else self.env is not Environment.TEST

    @property
    def docs_enabled(self) -> bool:
        return self.docs if self.docs is not None else self.env is not Environment.PRODUCTION

    @property
    def debug_surfaces(self) -> bool:
        """Whether debug-only endpoints and detail exist; never in production."""
        return self.debug and self.env is not Environment.PRODUCTION


class PluginSettings(BaseSettings):
    """Base for a plugin's settings; the core reads them with the prefix `FASTER_<NAME>_`.

    In production, every `SecretStr` field must differ from its declared default and be at least
    `secret_min_length` characters long, or start-up is refused naming the variable.
    """

    model_config = SettingsConfigDict(env_file=".env", env_nested_delimiter="__", extra="ignore")

    secret_min_length: ClassVar[int] = 32


def unsafe_settings(
    settings: FasterSettings, plugin_settings: dict[str, PluginSettings]
) -> list[str]:
    """Every reason these settings are unsafe, each naming its environment variable."""
    problems: list[str] = []
    if "*" in settings.cors_origins and settings.cors_allow_credentials:
        problems.append(
            "FASTER_CORS_ORIGINS contains '*' while FASTER_CORS_ALLOW_CREDENTIALS is true: "
            "list the allowed origins explicitly"
        )
    if "null" in settings.cors_origins:
        problems.append("FASTER_CORS_ORIGINS contains 'null', which any sandboxed page can send")
    if settings.env is not Environment.PRODUCTION:
        return problems
    if settings.debug:
        problems.append("FASTER_DEBUG is true in production")
    for name, model in plugin_settings.items():
        problems.extend(_unsafe_secrets(name, model))
    return problems


def _unsafe_secrets(plugin: str, model: PluginSettings) -> list[str]:
    problems = []
    for field, info in type(model).model_fields.items():
        value = getattr(model, field)
        if not isinstance(value, SecretStr):
            continue
        var = f"FASTER_{plugin.upper()}_{field.upper()}"
        default = info.get_default(call_default_factory=True)
        if (
            isinstance(default, SecretStr)
            and default.get_secret_value() == value.get_secret_value()
        ):
            problems.append(f"{var} still has its default value")
        elif len(value.get_secret_value()) < model.secret_min_length:
            problems.append(f"{var} is shorter than {model.secret_min_length} characters")
    return problems
