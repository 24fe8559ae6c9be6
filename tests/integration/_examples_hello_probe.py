"""Run by test_plugin_hello.py in a subprocess that has faster-hello on its PYTHONPATH.

    python -m tests.integration._examples_hello_probe REPORT.json

Builds the default app (`create_app()`: every installed, enabled plugin, configured from the
FASTER_* variables the test sets), runs its lifespan, calls it over ASGI and writes what it saw
to REPORT.json (stdout is left to the app's logs).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from faster_core import PluginHost, create_app
from faster_core.testing import client_for

PASSWORD = "correct horse battery staple"


async def _sign_up_and_in(client: httpx.AsyncClient) -> str:
    email = f"guest-{uuid.uuid4().hex[:8]}@example.com"
    credentials = {"email": email, "password": PASSWORD}
    registered = await client.post("/auth/register", json=credentials)
    signed_in = await client.post("/auth/login", json=credentials)
    if registered.status_code != 201 or signed_in.status_code != 200:
        raise RuntimeError(f"sign-up failed: {registered.text} / {signed_in.text}")
    return email


async def _guestbook_after_events(client: httpx.AsyncClient) -> Any:
    # The auth events run after the response, off the request path: wait for them a little.
    deadline = time.monotonic() + 10
    while True:
        book = (await client.get("/hello")).json()
        if (book["guests"] and book["sign_ins"]) or time.monotonic() > deadline:
            return book
        await asyncio.sleep(0.05)


async def probe() -> dict[str, Any]:
    app = create_app()
    host: PluginHost = app.state.faster
    report: dict[str, Any] = {"order": [r.name for r in host.enabled]}
    async with client_for(app) as client:
        greeting = await client.get("/hello/ada")
        report["greeting"] = {"status": greeting.status_code, "body": greeting.json()}
        report["health"] = (await client.get("/health")).json()
        if host.is_enabled("hello") and host.is_enabled("auth"):
            report["signed_up"] = await _sign_up_and_in(client)
            report["guestbook"] = await _guestbook_after_events(client)
        elif host.is_enabled("hello"):
            report["guestbook"] = (await client.get("/hello")).json()
    hello = next((r.plugin for r in host.enabled if r.name == "hello"), None)
    report["shut_down"] = None if hello is None else getattr(hello, "guestbook", 0) is None
    return report


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(asyncio.run(probe())))
