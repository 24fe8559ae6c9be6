"""faster-redis: Redis for the Faster suite, with an explicit policy for outages."""

from faster_redis._version import __version__
from faster_redis.cache import Cache, cached
from faster_redis.circuit import CircuitBreaker, CircuitState
from faster_redis.context import current_redis, use_redis
from faster_redis.dependencies import Redis, RedisHandle, get_redis, get_redis_service
from faster_redis.events import Event, Events, Subscription
from faster_redis.exceptions import (
    LockNotAcquiredError,
    RateLimitExceededError,
    RedisError,
    RedisUnavailableError,
)
from faster_redis.locks import Lock, locked
from faster_redis.middleware import RateLimitMiddleware
from faster_redis.ratelimit import (
    Algorithm,
    Decision,
    Limit,
    RateLimiter,
    by_ip,
    by_user,
    rate_limit,
    rate_limited,
)
from faster_redis.response_cache import cache_response
from faster_redis.service import RedisService
from faster_redis.settings import FailurePolicy, RedisSettings

__all__ = [
    "Algorithm",
    "Cache",
    "CircuitBreaker",
    "CircuitState",
    "Decision",
    "Event",
    "Events",
    "FailurePolicy",
    "Limit",
    "Lock",
    "LockNotAcquiredError",
    "RateLimitExceededError",
    "RateLimitMiddleware",
    "RateLimiter",
    "Redis",
    "RedisError",
    "RedisHandle",
    "RedisService",
    "RedisSettings",
    "RedisUnavailableError",
    "Subscription",
    "__version__",
    "by_ip",
    "by_user",
    "cache_response",
    "cached",
    "current_redis",
    "get_redis",
    "get_redis_service",
    "locked",
    "rate_limit",
    "rate_limited",
    "use_redis",
]
