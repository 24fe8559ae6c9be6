"""The plugin's settings, read from `FASTER_OBSERVABILITY_*` when an app is created."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from faster_core import Environment, PluginSettings
from faster_core.settings import split_comma_list

__all__ = ["DEFAULT_BUCKETS", "LogFormat", "ObservabilitySettings"]

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Latency buckets in seconds: fine below 100 ms, where most API requests land."""


class LogFormat(StrEnum):
    """How log lines are rendered; `auto` is console in development and JSON everywhere else."""

    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


def _statuses(value: Any) -> Any:
    """`"429,500-599"` (or a list of ints and ranges) as a set of status codes."""
    items = split_comma_list(value)
    if not isinstance(items, list | tuple | set | frozenset):
        return items
    codes: set[int] = set()
    for item in items:
        if isinstance(item, str) and "-" in item:
            low, high = (int(part) for part in item.split("-", 1))
            codes.update(range(low, high + 1))
        else:
            codes.add(int(item))
    return codes


class ObservabilitySettings(PluginSettings):
    """Logging, metrics and Sentry settings (`FASTER_OBSERVABILITY_*`)."""

    # -- logging --------------------------------------------------------------------------------
    configure_logging: bool = Field(
        default=True,
        description="Install the structlog pipeline on the root logger for the app's lifetime.",
    )
    log_format: LogFormat = LogFormat.AUTO
    log_level: str = "INFO"
    log_tracebacks: bool | None = Field(
        default=None,
        description="Full tracebacks in log lines; default: on except in production, where the "
        "line carries the exception's type and (redacted) message and Sentry has the rest.",
    )
    access_log: bool = Field(default=True, description="One line per request (replaces uvicorn's).")
    access_log_batch_seconds: float = Field(
        default=0.1,
        ge=0.0,
        le=10.0,
        description="Access lines to the console in JSON are written in batches, at most this "
        "late (a 5xx line, any other line, shutdown and a full batch write them sooner); "
        "0 writes each line when its request ends.",
    )
    log_file: Path | None = Field(default=None, description="Also write JSON lines to this file.")
    log_file_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    log_file_backups: int = Field(default=5, ge=0)
    redact_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra key substrings whose values are redacted (besides password, token, "
        "secret, key, authorization, cookie).",
    )

    # -- metrics --------------------------------------------------------------------------------
    metrics: bool = Field(default=True, description="Collect HTTP metrics.")
    metrics_path: str = "/metrics"
    metrics_endpoint: bool | None = Field(
        default=None,
        description="Serve the metrics path; default: on outside production, and in production "
        "only when a token or an allow-list protects it.",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="When set, scrapes need `Authorization: Bearer <token>`."
    )
    metrics_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Client addresses or networks allowed to scrape; empty allows any.",
    )
    metrics_multiprocess: bool | None = Field(
        default=None,
        description="Aggregate across worker processes; default: on when "
        "PROMETHEUS_MULTIPROC_DIR is set.",
    )
    metrics_buckets: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_BUCKETS)
    )

    # -- Sentry ---------------------------------------------------------------------------------
    sentry_dsn: SecretStr | None = Field(default=None, description="Sentry is off without one.")
    sentry_environment: str | None = Field(default=None, description="Default: FASTER_ENV.")
    sentry_release: str | None = None
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    sentry_profiles_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    sentry_send_default_pii: bool = False
    sentry_include_local_variables: bool = False
    sentry_capture_statuses: Annotated[frozenset[int], NoDecode] = Field(
        default_factory=lambda: frozenset(range(500, 600)),
        description="Response statuses whose errors are reported, e.g. `500-599` or `429,500-599`.",
    )
    sentry_shutdown_timeout: float = Field(default=2.0, gt=0)

    # -- OpenTelemetry (the `otel` extra) -------------------------------------------------------
    otel_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces; "
        "OpenTelemetry is off (and not imported) without one.",
    )
    otel_service_name: str | None = Field(default=None, description="Default: FASTER_TITLE.")
    otel_sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("redact_keys", "metrics_allow", "metrics_buckets", mode="before")
    @classmethod
    def _parse_list(cls, value: Any) -> Any:
        return split_comma_list(value)

    @field_validator("sentry_capture_statuses", mode="before")
    @classmethod
    def _parse_statuses(cls, value: Any) -> Any:
        return _statuses(value)

    @field_validator("metrics_allow")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"FASTER_OBSERVABILITY_METRICS_ALLOW: {item!r} is not an address or network"
                ) from None
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}:
            raise ValueError(
                "FASTER_OBSERVABILITY_LOG_LEVEL must be one of CRITICAL, ERROR, WARNING, INFO, "
                f"DEBUG (got {value!r})"
            )
        return level

    @field_validator("metrics_path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("FASTER_OBSERVABILITY_METRICS_PATH must start with '/'")
        return value

    def resolved_format(self, env: Environment) -> LogFormat:
        if self.log_format is not LogFormat.AUTO:
            return self.log_format
        return LogFormat.CONSOLE if env is Environment.DEVELOPMENT else LogFormat.JSON

    def tracebacks_on(self, env: Environment) -> bool:
        if self.log_tracebacks is not None:
            return self.log_tracebacks
        return env is not Environment.PRODUCTION

    def metrics_endpoint_on(self, env: Environment) -> bool:
        """Whether the metrics path is served; production needs a token or an allow-list."""
        if not self.metrics:
            return False
        protected = self.metrics_token is not None or bool(self.metrics_allow)
        if self.metrics_endpoint is None:
            return env is not Environment.PRODUCTION or protected
        return self.metrics_endpoint
