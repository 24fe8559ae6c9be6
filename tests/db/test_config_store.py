"""The key/value configuration store: values and lists per category, seen by every worker
without restart (faster_db/config_store.py)."""

from __future__ import annotations

import pytest

from faster_db import ConfigStore, Database, DBSettings, migrations
from faster_db.migrations import builtin_source

pytestmark = pytest.mark.anyio


async def test_a_change_made_by_one_worker_is_seen_by_another_at_once(db_url: str) -> None:
    worker_a = Database(DBSettings(_env_file=None, url=db_url))
    worker_b = Database(DBSettings(_env_file=None, url=db_url))
    try:
        await migrations.upgrade(worker_a, [builtin_source()])
        async with worker_a.session_scope() as session:
            store = ConfigStore(session)
            await store.set("signup", "allowed_domains", ["example.com"])
            await store.set("signup", "open", True)
            await store.set("mail", "sender", "noreply@example.com")
        async with worker_b.session_scope(readonly=True) as session:
            store = ConfigStore(session)
            assert await store.get_list("signup", "allowed_domains") == ["example.com"]
            assert await store.get("signup", "open") is True
        async with worker_a.session_scope() as session:
            await ConfigStore(session).set("signup", "allowed_domains", ["a.org", "b.org"])
        async with worker_b.session_scope() as session:
            store = ConfigStore(session)
            assert await store.get_list("signup", "allowed_domains") == ["a.org", "b.org"]
            assert await store.category("signup") == {
                "allowed_domains": ["a.org", "b.org"],
                "open": True,
            }
            assert await store.categories() == ["mail", "signup"]
            assert await store.get_list("mail", "sender") == ["noreply@example.com"]
            assert await store.get("nothing", "here", "fallback") == "fallback"
            assert await store.get_list("nothing", "here") == []
            assert await store.delete("mail", "sender") is True
            assert await store.delete("mail", "sender") is False
    finally:
        await worker_a.dispose()
        await worker_b.dispose()
