"""The db plugin's settings, read from `FASTER_DB_*` when an app is created.

URLs are plain strings so that a short PostgreSQL password is not refused as a weak secret, but
they never show with their password: `repr` hides them and dumps (`/-/settings`, `faster
plugins --json`) render them with the password replaced by `***`.
"""

from __future__ import annotations

from pydantic import Field, PrivateAttr, field_serializer, field_validator
from pydantic_settings import SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from faster_core import Environment, PluginSettings
from faster_core.settings import CommaList
from faster_db.metrics import DBMetrics

__all__ = ["DEFAULT_URL", "DBSettings", "redact_url"]

DEFAULT_URL = "sqlite+aiosqlite:///./faster.db"


def redact_url(url: str) -> str:
    """`url` with its password replaced by `***` (or the URL's scheme alone if unparsable)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # an unparsable URL must not leak whole either
        return url.split(":", 1)[0] + "://(unparsable URL)"


class DBSettings(PluginSettings):
    """`FASTER_DB_*`: where the database is and how the pool and sessions behave."""

    # A URL that fails validation must not be quoted, password and all, in the error.
    model_config = SettingsConfigDict(hide_input_in_errors=True)

    url: str = Field(default=DEFAULT_URL, repr=False)
    replica_urls: CommaList = Field(default_factory=list, repr=False)
    pool_size: int = Field(default=5, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    pool_timeout: float = Field(default=30.0, gt=0)
    pool_recycle: int = Field(default=1800, ge=-1)
    pool_pre_ping: bool | None = None
    connect_timeout: float = Field(default=5.0, gt=0)
    statement_timeout: float | None = Field(default=None, gt=0)
    sqlite_busy_timeout: float = Field(default=5.0, ge=0)
    prepared_statements: bool = True
    echo: bool = False
    retry_after: int = Field(default=5, ge=0)
    health_timeout: float = Field(default=1.5, gt=0)
    auto_migrate: bool | None = None

    # Per-app runtime state of the plugin (settings are read once per app): what
    # faster-observability's metrics report on.
    _metrics: DBMetrics = PrivateAttr(default_factory=DBMetrics)

    @property
    def metrics(self) -> DBMetrics:
        return self._metrics

    @field_validator("url", "replica_urls")
    @classmethod
    def _parsable(cls, value: str | list[str]) -> str | list[str]:
        for url in [value] if isinstance(value, str) else value:
            try:
                make_url(url)
            except (ArgumentError, ValueError):
                # Not chained: the parser's message would quote the URL, password and all.
                raise ValueError("not a database URL (dialect+driver://...)") from None
        return value

    @field_serializer("url")
    def _redact_url(self, value: str) -> str:
        return redact_url(value)

    @field_serializer("replica_urls")
    def _redact_replicas(self, value: list[str]) -> list[str]:
        return [redact_url(url) for url in value]

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    def migrates_on_startup(self, env: Environment) -> bool:
        """`auto_migrate` when set; otherwise on for SQLite in development."""
        if self.auto_migrate is not None:
            return self.auto_migrate
        return env is Environment.DEVELOPMENT and self.is_sqlite
