"""The HTTP response cache: hits served before dependencies, ETag and 304, client
Cache-Control, Authorization, tags (faster_redis/response_cache.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import Depends, FastAPI, Response

from faster_core.testing import client_for
from faster_redis import cache_response
from tests.redis.apps import Counter, build_app

pytestmark = pytest.mark.anyio


def cached_app(redis: dict[str, Any]) -> tuple[FastAPI, Counter, Counter]:
    app = build_app(redis)
    runs, deps = Counter(), Counter()

    async def dependency() -> None:
        deps.calls += 1

    @app.get("/items/{item_id}", dependencies=[Depends(dependency)])
    @cache_response(ttl=30, tags=["item:{item_id}"])
    async def item(item_id: int) -> dict[str, Any]:
        runs.calls += 1
        return {"id": item_id, "run": runs.calls}

    @app.get("/me")
    @cache_response(ttl=30, per_user=True)
    async def me(response: Response) -> dict[str, int]:
        runs.calls += 1
        return {"run": runs.calls}

    @app.get("/cookie")
    @cache_response(ttl=30)
    async def cookie(response: Response) -> dict[str, int]:
        runs.calls += 1
        response.set_cookie("session", "abc")
        return {"run": runs.calls}

    return app, runs, deps


async def test_hit_is_served_before_dependencies(backend: dict[str, Any]) -> None:
    app, runs, deps = cached_app(backend)
    async with client_for(app) as client:
        first = await client.get("/items/1")
        second = await client.get("/items/1")
        other = await client.get("/items/2")
    assert first.json() == second.json() == {"id": 1, "run": 1}
    assert other.json()["run"] == 2
    assert runs.calls == 2
    assert deps.calls == 2
    assert second.headers["x-cache"] == "hit"
    assert second.headers["etag"] == first.headers["etag"]
    assert "x-request-id" in second.headers  # outer middleware still runs


async def test_if_none_match_gets_304(backend: dict[str, Any]) -> None:
    app, runs, _ = cached_app(backend)
    async with client_for(app) as client:
        etag = (await client.get("/items/1")).headers["etag"]
        not_modified = await client.get("/items/1", headers={"if-none-match": etag})
        changed = await client.get("/items/1", headers={"if-none-match": '"other"'})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert changed.status_code == 200
    assert runs.calls == 1


async def test_client_no_cache_recomputes_and_no_store_skips_the_cache(
    backend: dict[str, Any],
) -> None:
    app, runs, _ = cached_app(backend)
    async with client_for(app) as client:
        await client.get("/items/1")
        fresh = await client.get("/items/1", headers={"cache-control": "no-cache"})
        after_fresh = await client.get("/items/1")
        private = await client.get("/items/1", headers={"cache-control": "no-store"})
        after_private = await client.get("/items/1")
    assert fresh.json()["run"] == 2
    assert after_fresh.json()["run"] == 2  # the revalidated response was stored
    assert private.json()["run"] == 3
    assert after_private.json()["run"] == 2  # no-store did not overwrite it
    assert runs.calls == 3


async def test_authorization_is_never_cached_unless_per_user(backend: dict[str, Any]) -> None:
    app, _, _ = cached_app(backend)
    async with client_for(app) as client:
        anon = await client.get("/items/1")
        alice = [
            (await client.get("/items/1", headers={"authorization": "Bearer alice"})).json()
            for _ in range(2)
        ]
        me_alice = [
            (await client.get("/me", headers={"authorization": "Bearer alice"})).json()
            for _ in range(2)
        ]
        me_bob = (await client.get("/me", headers={"authorization": "Bearer bob"})).json()
    assert anon.json()["run"] == 1
    assert [a["run"] for a in alice] == [2, 3]  # never served from or stored in the cache
    assert me_alice[0] == me_alice[1]
    assert me_bob != me_alice[0]


async def test_responses_setting_cookies_are_not_stored(backend: dict[str, Any]) -> None:
    app, runs, _ = cached_app(backend)
    async with client_for(app) as client:
        await client.get("/cookie")
        await client.get("/cookie")
    assert runs.calls == 2


async def test_tag_invalidation_drops_cached_responses(backend: dict[str, Any]) -> None:
    app, _, _ = cached_app(backend)
    async with client_for(app) as client:
        await client.get("/items/1")
        await client.get("/items/2")
        await app.state.faster_redis.cache.invalidate_tags("item:1")
        one = await client.get("/items/1")
        two = await client.get("/items/2")
    assert one.json()["run"] == 3
    assert two.json()["run"] == 2


async def test_concurrent_cold_requests_compute_once(backend: dict[str, Any]) -> None:
    app = build_app(backend)
    runs = Counter()

    @app.get("/slow")
    @cache_response(ttl=30)
    async def slow() -> dict[str, int]:
        runs.calls += 1
        await asyncio.sleep(0.2)
        return {"run": runs.calls}

    async with client_for(app) as client:
        responses = await asyncio.gather(*(client.get("/slow") for _ in range(200)))
    assert {r.status_code for r in responses} == {200}
    assert {r.json()["run"] for r in responses} == {1}
    assert len({r.headers["etag"] for r in responses}) == 1
    assert runs.calls == 1


async def test_a_hot_entry_is_decoded_once_and_each_hit_gets_its_own_header_list() -> None:
    from starlette.datastructures import Headers
    from starlette.types import Message

    from faster_redis.response_cache import _DecodedEntries, _send_entry

    entry = b'{"status": 200, "etag": "\\"e1\\"", "headers": [["etag", "\\"e1\\""]]}\n{"a": 1}'
    decoded = _DecodedEntries(size=2, largest=len(entry))
    assert decoded(entry) is decoded(bytes(entry))  # equal bytes from Redis: the same decoding

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.start":
            message["headers"].append((b"x-outer", b"1"))  # as MutableHeaders does, in place

    for _ in range(2):
        await _send_entry(decoded(entry), Headers(), send)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert [m["headers"] for m in starts] == [
        [(b"etag", b'"e1"'), (b"x-cache", b"hit"), (b"x-outer", b"1")]
    ] * 2
    assert [m["body"] for m in sent if m["type"] == "http.response.body"] == [b'{"a": 1}'] * 2


def test_decoded_entries_are_bounded_in_count_and_size() -> None:
    from faster_redis.response_cache import _DecodedEntries

    def entry(n: int, body: bytes = b"{}") -> bytes:
        return b'{"status": 200, "etag": "\\"%d\\"", "headers": []}\n' % n + body

    decoded = _DecodedEntries(size=2, largest=100)
    first = decoded(entry(1))
    decoded(entry(2))
    assert decoded(entry(1)) is first
    decoded(entry(3))  # a third: the memo starts over rather than grow
    assert decoded(entry(1)) is not first
    large = entry(4, b"x" * 200)
    assert decoded(large) is not decoded(large)  # over `largest`: decoded each time, not kept
    assert decoded(large).body == b"x" * 200
