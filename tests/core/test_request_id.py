"""Made request ids: well-formed, and distinct across requests and forked workers
(faster_core/middleware/request_id.py)."""

from __future__ import annotations

import asyncio
import multiprocessing
import re

from starlette.types import Message, Receive, Scope, Send

from faster_core.middleware import RequestIdMiddleware


async def _plain(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _made_ids(count: int) -> list[str]:
    app = RequestIdMiddleware(_plain)
    ids: list[str] = []

    async def run() -> None:
        async def receive() -> Message:
            return {"type": "http.request", "body": b""}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                ids.extend(v.decode() for k, v in message["headers"] if k == b"x-request-id")

        for _ in range(count):
            await app({"type": "http", "headers": []}, receive, send)

    asyncio.run(run())
    return ids


def test_made_ids_are_128_bit_hex_and_distinct() -> None:
    ids = _made_ids(2000)
    assert all(re.fullmatch(r"[0-9a-f]{32}", made) for made in ids)
    assert len(set(ids)) == len(ids)


def test_forked_workers_make_different_ids() -> None:
    _made_ids(1)  # the parent's generator is in use before the workers fork, as under uvicorn
    with multiprocessing.get_context("fork").Pool(3) as pool:
        batches = pool.map(_made_ids, [200, 200, 200])
    made = [made for batch in batches for made in batch]
    assert len(set(made)) == len(made) == 600
