"""The public API is what `__all__` says, and the plugin describes itself
(faster_redis/__init__.py, plugin.py)."""

from __future__ import annotations

import importlib.metadata

import faster_redis
import faster_redis.plugin
from faster_redis.settings import RedisSettings


def test_all_is_pinned() -> None:
    assert sorted(faster_redis.__all__) == [
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
    for name in faster_redis.__all__:
        assert hasattr(faster_redis, name)


def test_entry_points_target_the_plugin_and_the_testing_kit() -> None:
    eps = importlib.metadata.entry_points()
    (plugin,) = [ep for ep in eps.select(group="faster") if ep.name == "redis"]
    (kit,) = [ep for ep in eps.select(group="pytest11") if ep.name == "faster_redis"]
    assert plugin.load() is faster_redis.plugin
    assert kit.value == "faster_redis.testing"


def test_plugin_info() -> None:
    info = faster_redis.plugin.faster_plugin_info()
    assert info.name == "redis"
    assert info.version == faster_redis.__version__
    assert info.settings is RedisSettings
