"""The db example app keeps working (examples/db_signin.py)."""

from __future__ import annotations

import pytest

import faster_db.plugin
from faster_core import FasterSettings, create_app
from faster_core.testing import client_for

pytestmark = pytest.mark.anyio


async def test_signin_example_upserts_and_counts_background_visits(sqlite_url: str) -> None:
    from examples.db_signin import SignInExample

    settings = FasterSettings(_env_file=None, plugin_settings={"db": {"url": sqlite_url}})
    app = create_app(settings, plugins=[faster_db.plugin, SignInExample()], load_entrypoints=False)
    async with client_for(app) as client:
        first = await client.post("/signin/ada@example.com")
        again = await client.post("/signin/ada@example.com")
        visits = await client.get(f"/members/{first.json()['member_id']}/visits")
        missing = await client.get("/members/999/visits")
    assert first.json() == again.json()
    assert visits.json()["visits"] == 2
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
