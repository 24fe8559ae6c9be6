"""The JWKS issuer down, under steady load: the app verifies tokens of an external issuer
(`FASTER_AUTH_PROVIDER=jwks`) whose key set a loopback HTTP server publishes; the server is shut
down for a few seconds, then started again with a rotated key added.

Signed-in users keep working on the cached keys (no 500, no sign-out), `/health` shows the
identity provider degraded within 2 s, and within 10 s of the issuer coming back its health is
back and a token signed with the rotated key is accepted, without restarting the app.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from faster_core import FasterSettings
from faster_core.testing import client_for
from faster_redis.testing import free_port
from tests.integration.scale_app import create_scale_app

ISSUER = "https://issuer.example"
AUDIENCE = "scale-api"
OUTAGE = 4.0


class Issuer:
    """A JWKS endpoint on 127.0.0.1 that can be stopped and started on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.keys: dict[str, Ed25519PrivateKey] = {"k1": Ed25519PrivateKey.generate()}
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks.json"

    def document(self) -> bytes:
        keys = []
        for kid, key in self.keys.items():
            raw = key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            keys.append(
                {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}
            )
        return json.dumps({"keys": keys}).encode()

    def start(self) -> None:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = issuer.document()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def token(self, kid: str, subject: str = "ext-user") -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "exp": now + 600,
            "jti": uuid.uuid4().hex,
            "roles": ["editor"],
        }
        return jwt.encode(claims, self.keys[kid], algorithm="EdDSA", headers={"kid": kid})


@dataclass
class Report:
    answers: list[tuple[float, str, int]] = field(default_factory=list)
    probes: list[tuple[float, int, int, dict[str, Any]]] = field(default_factory=list)
    fault_at: float = 0.0
    restored_at: float = 0.0
    rotated_accepted_at: float | None = None
    healthy_again_at: float | None = None


def _identity_check(health: dict[str, Any]) -> dict[str, Any]:
    checks = health.get("checks", [])
    found = [c for c in checks if isinstance(c, dict) and c.get("name") == "identity-provider"]
    return found[0] if found else {}


def _app(issuer: Issuer, folder: Path) -> FastAPI:
    settings = FasterSettings(
        _env_file=None,
        env="test",
        plugin_settings={
            "db": {"url": f"sqlite+aiosqlite:///{folder / 'jwks.db'}", "auto_migrate": True},
            "auth": {
                "provider": "jwks",
                "jwks_url": issuer.url,
                "issuer": ISSUER,
                "audience": AUDIENCE,
                "jwks_ttl": 1.0,
                "jwks_timeout": 0.5,
                "jwks_cooldown": 1.0,
            },
            "observability": {"access_log": False, "configure_logging": False},
        },
    )
    return create_scale_app(settings)


async def _load(
    client: httpx.AsyncClient, issuer: Issuer, report: Report, stop: asyncio.Event
) -> None:
    token = issuer.token("k1")
    while not stop.is_set():
        sent = time.monotonic()
        response = await client.get("/scale/editor", headers={"authorization": f"Bearer {token}"})
        report.answers.append((sent, "editor", response.status_code))
        await asyncio.sleep(0.01)


async def _probe(client: httpx.AsyncClient, report: Report, stop: asyncio.Event) -> None:
    while not stop.is_set():
        sent = time.monotonic()
        live, ready, health = await asyncio.gather(
            client.get("/health/live"), client.get("/health/ready"), client.get("/health")
        )
        report.probes.append((sent, live.status_code, ready.status_code, health.json()))
        await asyncio.sleep(0.1)


async def _scenario(issuer: Issuer, app: FastAPI) -> Report:
    report = Report()
    stop = asyncio.Event()
    async with client_for(app, startup_timeout=30.0) as client:
        tasks = [asyncio.create_task(_load(client, issuer, report, stop)) for _ in range(3)]
        tasks.append(asyncio.create_task(_probe(client, report, stop)))
        try:
            await asyncio.sleep(1.5)
            report.fault_at = time.monotonic()
            await asyncio.to_thread(issuer.stop)
            await asyncio.sleep(OUTAGE)
            issuer.keys["k2"] = Ed25519PrivateKey.generate()  # rotated while it was down
            await asyncio.to_thread(issuer.start)
            report.restored_at = time.monotonic()
            await _until_recovered(client, issuer, report)
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
    return report


async def _until_recovered(client: httpx.AsyncClient, issuer: Issuer, report: Report) -> None:
    rotated = {"authorization": f"Bearer {issuer.token('k2', subject='rotated-user')}"}
    deadline = report.restored_at + 12.0
    while time.monotonic() < deadline and (
        report.rotated_accepted_at is None or report.healthy_again_at is None
    ):
        response = await client.get("/scale/editor", headers=rotated)
        report.answers.append((time.monotonic(), "rotated", response.status_code))
        if response.status_code == 200 and report.rotated_accepted_at is None:
            report.rotated_accepted_at = time.monotonic()
        health = (await client.get("/health")).json()
        check = _identity_check(health)
        if check.get("status") == "pass" and not check.get("degraded"):
            report.healthy_again_at = report.healthy_again_at or time.monotonic()
        await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    issuer = Issuer()
    issuer.start()
    try:
        yield asyncio.run(_scenario(issuer, _app(issuer, tmp_path_factory.mktemp("jwks"))))
    finally:
        issuer.stop()


def test_signed_in_users_keep_working_while_the_issuer_is_down(report: Report) -> None:
    during = [
        status
        for sent, route, status in report.answers
        if route == "editor" and report.fault_at <= sent < report.restored_at
    ]
    assert during
    assert set(during) == {200}


def test_no_response_is_a_server_error(report: Report) -> None:
    assert 500 not in {status for _, _, status in report.answers}
    assert {status for _, _, status in report.answers} <= {200, 401, 503}


def test_liveness_answers_200_throughout(report: Report) -> None:
    assert {live for _, live, _, _ in report.probes} == {200}


def test_the_outage_shows_in_health_within_2_seconds(report: Report) -> None:
    degraded = [
        sent
        for sent, _, _, health in report.probes
        if sent >= report.fault_at and _identity_check(health).get("degraded")
    ]
    assert degraded, "the identity provider never showed as degraded"
    assert degraded[0] - report.fault_at <= 2.0


def test_the_service_recovers_within_10_seconds_without_a_restart(report: Report) -> None:
    assert report.healthy_again_at is not None, "the identity provider never healthy again"
    assert report.healthy_again_at - report.restored_at <= 10.0
    assert report.rotated_accepted_at is not None, "a token of the rotated key never accepted"
    assert report.rotated_accepted_at - report.restored_at <= 10.0
