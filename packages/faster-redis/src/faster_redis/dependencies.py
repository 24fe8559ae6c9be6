"""Route dependencies: the raw client (`Redis`) and the app's service (`RedisHandle`)."""

from __future__ import annotations

from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, Request

from faster_core import ConfigurationError
from faster_redis.context import service_from_scope
from faster_redis.service import RedisService

__all__ = ["Redis", "RedisHandle", "get_redis", "get_redis_service"]


def get_redis_service(request: Request) -> RedisService:
    service = service_from_scope(request.scope)
    if service is None:
        raise ConfigurationError("the redis plugin is not enabled on this app")
    return service


def get_redis(request: Request) -> aioredis.Redis:
    """The app's redis-py client; its connection errors become 503 problems."""
    return get_redis_service(request).client


Redis = Annotated[aioredis.Redis, Depends(get_redis)]
"""`async def route(redis: Redis)`: the app's redis-py asyncio client."""

RedisHandle = Annotated[RedisService, Depends(get_redis_service)]
"""`async def route(redis: RedisHandle)`: the service (prefix, breaker, `execute`)."""
