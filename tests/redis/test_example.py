"""The example app keeps working (examples/redis_catalog.py)."""

from __future__ import annotations

from typing import Any

import pytest

from examples.redis_catalog import create
from faster_core import FasterSettings
from faster_core.testing import client_for

pytestmark = pytest.mark.anyio


async def test_catalog_caches_invalidates_and_limits(backend: dict[str, Any]) -> None:
    app = create(FasterSettings(_env_file=None, plugin_settings={"redis": backend}))
    async with client_for(app) as client:
        first = await client.get("/products/1")
        again = await client.get("/products/1")
        changed = await client.post("/products/1/stock", json=5)
        after = await client.get("/products/1")
        missing = await client.get("/products/9")
        logins = [(await client.post("/login")).status_code for _ in range(6)]
    assert first.json() == {"id": 1, "stock": 10}
    assert again.headers["x-cache"] == "hit"
    assert changed.json() == {"id": 1, "stock": 15}
    assert after.json() == {"id": 1, "stock": 15}
    assert missing.status_code == 404
    assert logins == [200] * 5 + [429]
