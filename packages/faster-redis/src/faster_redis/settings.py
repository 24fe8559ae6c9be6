"""Settings of the redis plugin, read from `FASTER_REDIS_*` when an app is created."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from faster_core import PluginSettings
from faster_redis.metrics import RedisMetrics

__all__ = ["FailurePolicy", "RedisSettings"]

MEMORY_URL = "memory://"
SCHEMES = ("memory", "redis", "rediss", "unix", "redis+sentinel")
CLUSTER_SCHEMES = ("redis", "rediss")


class FailurePolicy(StrEnum):
    """What a feature does while Redis is unreachable."""

    OPEN = "open"
    """Serve without the feature (no cache, no limit), log it and count it."""
    CLOSED = "closed"
    """Refuse with a 503 problem carrying `Retry-After`."""


class RedisSettings(PluginSettings):
    """`FASTER_REDIS_*`: the connection, the outage policy and each feature's defaults."""

    # Redis passwords are chosen by providers; the core's 32-character floor does not apply.
    secret_min_length: ClassVar[int] = 1

    url: str = Field(
        default=MEMORY_URL,
        description="memory:// (in-process fakeredis), redis://, rediss:// (TLS), unix:// or "
        "redis+sentinel://host:26379,host2:26379/service_name[/db]; "
        "a password in the URL is moved to `password` and never shown.",
    )
    cluster: bool = Field(
        default=False,
        description="Redis Cluster: `url` (redis:// or rediss://) names one or more seed nodes, "
        "e.g. redis://10.0.0.1:7000,10.0.0.2:7000.",
    )
    password: SecretStr | None = None
    prefix: str = Field(default="", description="Prepended to every key this plugin writes.")
    pool_size: int = Field(default=50, gt=0)
    connect_timeout: float = Field(default=0.5, gt=0)
    socket_timeout: float = Field(
        default=0.5, gt=0, description="Upper bound of one Redis operation, pool wait included."
    )
    health_check_interval: float = Field(
        default=15.0, ge=0, description="Idle pooled connections are PINGed after this long."
    )
    startup_retries: int = Field(default=3, ge=0)
    startup_backoff: float = Field(default=0.2, ge=0, description="First wait; doubles each try.")
    startup_required: bool = Field(
        default=True, description="Refuse to start when Redis cannot be reached after retries."
    )
    health_timeout: float = Field(default=1.0, gt=0)
    ready_requires_redis: bool = Field(
        default=False, description="/health/ready fails (503) rather than reports degraded."
    )
    circuit_failure_threshold: int = Field(default=3, gt=0)
    circuit_reset_timeout: float = Field(
        default=1.0, gt=0, description="Seconds the circuit stays open before one probe call."
    )
    retry_after: int = Field(default=5, gt=0, description="Retry-After of fail-closed 503s.")

    cache_failure: FailurePolicy = FailurePolicy.OPEN
    cache_ttl: float = Field(default=60.0, gt=0)
    cache_stampede_timeout: float = Field(default=5.0, gt=0)
    cache_local_ttl: float = Field(
        default=1.0, ge=0, description="Seconds a hit may be served from process memory; 0: off."
    )
    cache_local_size: int = Field(default=1024, gt=0)

    ratelimit_enabled: bool = True
    ratelimit_failure: FailurePolicy = FailurePolicy.OPEN
    ratelimit_login_failure: FailurePolicy = FailurePolicy.CLOSED
    ratelimit_global: str | None = Field(
        default=None, description='A limit on every HTTP request per client IP, e.g. "100/minute".'
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Peers (IPs or CIDRs) whose X-Forwarded-For is believed.",
    )

    lock_failure: FailurePolicy = FailurePolicy.CLOSED
    lock_ttl: float = Field(default=30.0, gt=0)

    events_channel: str = "events"

    # The app's metrics live with its settings instance: the observability hook and the
    # lifespan both receive the host, and this is the per-app object they share.
    _metrics: RedisMetrics = PrivateAttr(default_factory=RedisMetrics)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in SCHEMES:
            raise ValueError(
                f"FASTER_REDIS_URL must start with one of {', '.join(s + '://' for s in SCHEMES)}"
            )
        return value

    @model_validator(mode="after")
    def _cluster_needs_nodes(self) -> RedisSettings:
        scheme = urlsplit(self.url).scheme
        if self.cluster and scheme not in CLUSTER_SCHEMES:
            raise ValueError(
                "FASTER_REDIS_CLUSTER needs FASTER_REDIS_URL to name the seed nodes with "
                f"redis:// or rediss://, not {scheme}://"
            )
        return self

    @model_validator(mode="after")
    def _lift_password(self) -> RedisSettings:
        parts = urlsplit(self.url)
        userinfo, at, hosts = parts.netloc.rpartition("@")
        user, colon, password = userinfo.partition(":")
        if not at or not colon:
            return self
        if self.password is None:
            self.password = SecretStr(unquote(password))
        self.url = urlunsplit(parts._replace(netloc=f"{user}@{hosts}" if user else hosts))
        return self

    @property
    def metrics(self) -> RedisMetrics:
        return self._metrics

    @property
    def memory(self) -> bool:
        return self.url.startswith(MEMORY_URL)

    def key(self, *parts: str) -> str:
        """A key under this app's prefix."""
        return self.prefix + ":".join(parts)

    def slot_key(self, group: str, *parts: str) -> str:
        """A key under this app's prefix whose hash tag is `{<prefix><group>}`: every key of the
        group lands in one Redis Cluster slot, so one script or transaction may use several."""
        return f"{self.prefix}{{{self.prefix}{group}}}:" + ":".join(parts)
