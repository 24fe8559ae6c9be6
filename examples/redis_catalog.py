"""A catalog API on faster-redis: a cached product route, a login limit that fails closed, a lock
around stock changes, and tag invalidation when a product changes.

Run it from the repository root (memory:// by default; point it at a server with
FASTER_REDIS_URL=redis://127.0.0.1:6379/0):

    hatch run demo:serve examples.redis_catalog:create --factory

    curl http://127.0.0.1:8000/products/1          # computed, then served from the cache
    curl -X POST http://127.0.0.1:8000/products/1/stock -H 'content-type: application/json' -d 5
    curl -X POST http://127.0.0.1:8000/login       # the 6th within a minute answers 429
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Depends, FastAPI

import faster_redis.plugin
from faster_core import FasterSettings, NotFoundError, create_app
from faster_redis import RedisHandle, cache_response, rate_limit


def create(settings: FasterSettings | None = None) -> FastAPI:
    app = create_app(settings, plugins=[faster_redis.plugin], load_entrypoints=False)
    stock = {1: 10, 2: 0}

    @app.get("/products/{product_id}")
    @cache_response(ttl=60, tags=["product:{product_id}"])
    async def product(product_id: int) -> dict[str, int]:
        if product_id not in stock:
            raise NotFoundError("No such product.")
        return {"id": product_id, "stock": stock[product_id]}

    @app.post("/products/{product_id}/stock")
    async def add_stock(
        product_id: int, amount: Annotated[int, Body()], redis: RedisHandle
    ) -> dict[str, int]:
        async with redis.lock(f"product:{product_id}", ttl=5, timeout=2):
            stock[product_id] = stock.get(product_id, 0) + amount
        await redis.cache.invalidate_tags(f"product:{product_id}")
        return {"id": product_id, "stock": stock[product_id]}

    @app.post("/login", dependencies=[Depends(rate_limit("5/minute", login=True))])
    async def login() -> dict[str, str]:
        return {"status": "signed in"}

    return app
