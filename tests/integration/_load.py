"""Steady load against an app while a dependency fails, and what it saw.

`run_scenario` drives the scale app in-process with a few concurrent clients (a mix of routes:
reads through the cache, writes to PostgreSQL, a rate-limited route, an authenticated route),
probes `/health/live`, `/health/ready` and `/health` every 100 ms, and calls `fault()` then
`restore()` at fixed points. Every answer is recorded with when it was sent and how long it took.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from faster_core.testing import client_for

__all__ = ["Answer", "Probe", "Report", "run_scenario"]

NO_ANSWER = -1
"""The status recorded for a request that got no answer within `answer_within` seconds."""
PASSWORD = "correct horse battery staple"
PROBED = ("/health/live", "/health/ready", "/health/ready", "/health")
"""Each probed on its own every 100 ms (readiness twice: a finer view of when it turns)."""


@dataclass(frozen=True)
class Answer:
    route: str
    sent: float
    took: float
    status: int


@dataclass(frozen=True)
class Probe:
    path: str
    sent: float
    took: float
    status: int
    body: dict[str, Any]


@dataclass
class Report:
    """Times are `time.monotonic()` values; `fault_at`/`restored_at` bracket the outage.

    `restoring_at` is when the restore began: a restarted server may answer before its restart
    returns, so only what finished before `restoring_at` was surely served during the outage.
    """

    kind: str
    answers: list[Answer] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    written_before: dict[str, str] = field(default_factory=dict)
    acknowledged: dict[str, str] = field(default_factory=dict)
    stored: dict[str, Any] = field(default_factory=dict)
    fault_at: float = 0.0
    restoring_at: float = 0.0
    restored_at: float = 0.0
    recovered_at: float | None = None

    def statuses(self) -> set[int]:
        return {answer.status for answer in self.answers}

    def during_outage(self) -> list[Answer]:
        return [a for a in self.answers if self.fault_at <= a.sent < self.restored_at]


def _ok(status: int) -> bool:
    return status in (200, 204, 429)


class _Load:
    def __init__(self, client: httpx.AsyncClient, token: str, report: Report, answer_within: float):
        self.client = client
        self.token = token
        self.report = report
        self.answer_within = answer_within
        self.stopped = asyncio.Event()
        self.counter = itertools.count()

    async def _send(self, route: str, method: str, url: str, **kwargs: Any) -> int:
        sent = time.monotonic()
        try:
            response = await asyncio.wait_for(
                self.client.request(method, url, **kwargs), self.answer_within
            )
            status = response.status_code
        except TimeoutError:
            status = NO_ANSWER
        self.report.answers.append(Answer(route, sent, time.monotonic() - sent, status))
        return status

    async def client_loop(self, bucket: str) -> None:
        auth = {"authorization": f"Bearer {self.token}"}
        while not self.stopped.is_set():
            n = next(self.counter)
            item = f"w-{n}"
            value = uuid.uuid4().hex
            if (
                await self._send("PUT item", "PUT", f"/scale/items/{item}", json={"value": value})
                == 200
            ):
                self.report.acknowledged[item] = value
            await self._send("GET item", "GET", f"/scale/items/r-{n % 5}")
            await self._send("POST limited", "POST", "/scale/limited", headers={"x-bucket": bucket})
            await self._send("GET me", "GET", "/auth/me", headers=auth)
            await self._send("GET whoami", "GET", "/scale/whoami")
            await asyncio.sleep(0.01)

    async def probe_loop(self, path: str) -> None:
        while not self.stopped.is_set():
            sent = time.monotonic()
            response = await self.client.get(path)
            took = time.monotonic() - sent
            self.report.probes.append(
                Probe(path, sent, took, response.status_code, response.json())
            )
            await asyncio.sleep(0.1)


async def _before_the_fault(
    client: httpx.AsyncClient, method: str, url: str, body: dict[str, str]
) -> httpx.Response:
    """Set-up requests, retried on a 503: a loaded machine may slow a healthy Redis past its
    socket timeout, and sign-in limits fail closed. The scenario itself starts afterwards."""
    for _ in range(10):
        response = await client.request(method, url, json=body)
        if response.status_code != 503:
            return response
        await asyncio.sleep(0.5)
    return response


async def _sign_in(client: httpx.AsyncClient) -> str:
    body = {"email": f"{uuid.uuid4().hex[:10]}@example.com", "password": PASSWORD}
    registered = await _before_the_fault(client, "POST", "/auth/register", body)
    assert registered.status_code == 201, registered.text
    login = await _before_the_fault(client, "POST", "/auth/login", body)
    assert login.status_code == 200, login.text
    token: str = login.json()["access_token"]
    return token


async def _recovered_since(report: Report, start: float, steady: float) -> float | None:
    """The first time from which every answer and probe was healthy for `steady` seconds."""
    candidates = sorted(
        [(a.sent, _ok(a.status)) for a in report.answers if a.sent >= start]
        + [
            (p.sent, p.status == 200)
            for p in report.probes
            if p.sent >= start and p.path != "/health"
        ]
    )
    since: float | None = None
    for sent, healthy in candidates:
        if not healthy:
            since = None
        elif since is None:
            since = sent
    if since is not None and candidates and candidates[-1][0] - since >= steady:
        return since
    return None


async def run_scenario(
    kind: str,
    app: FastAPI,
    fault: Callable[[], None],
    restore: Callable[[], None],
    *,
    outage: float = 4.0,
    recover_within: float = 10.0,
    answer_within: float = 15.0,
) -> Report:
    """Load, fault for `outage` seconds, restore, and load until recovered (or the bound)."""
    report = Report(kind)
    async with client_for(app, startup_timeout=30.0) as client:
        token = await _sign_in(client)
        for index in range(5):
            value = uuid.uuid4().hex
            written = await _before_the_fault(
                client, "PUT", f"/scale/items/r-{index}", {"value": value}
            )
            assert written.status_code == 200, written.text
            report.written_before[f"r-{index}"] = value
        load = _Load(client, token, report, answer_within)
        tasks = [asyncio.create_task(load.client_loop(f"{kind}-{i}")) for i in range(4)]
        tasks += [asyncio.create_task(load.probe_loop(path)) for path in PROBED]
        try:
            await asyncio.sleep(1.0)
            report.fault_at = time.monotonic()
            await asyncio.to_thread(fault)
            await asyncio.sleep(outage)
            report.restoring_at = time.monotonic()
            await asyncio.to_thread(restore)
            report.restored_at = time.monotonic()
            deadline = report.restored_at + recover_within + 2.0
            while time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                report.recovered_at = await _recovered_since(report, report.restored_at, 1.0)
                if report.recovered_at is not None:
                    break
        finally:
            load.stopped.set()
            await asyncio.gather(*tasks, return_exceptions=True)
        for item in [*report.written_before, *report.acknowledged]:
            stored = await client.get(f"/scale/store/{item}")
            report.stored[item] = (
                stored.json()["value"] if stored.status_code == 200 else stored.status_code
            )
    return report
