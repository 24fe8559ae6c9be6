"""The generic in-process driver: variants, targets, the measuring loop and the report.

A variant is a named, module-level, zero-argument app factory (so that uvicorn can import it
with `--factory` in server mode) plus what the request carries and what it is held to. The
driver builds each ASGI scope by hand for `GET /bench`, runs every app's lifespan, then calls
the apps from `concurrency` asyncio tasks, interleaving the variants round by round so that
drift of a shared machine hits them all alike, and takes the median per variant.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "BASELINE",
    "BENCH_PATH",
    "REQUEST_HEADERS",
    "SERVER_COST_US",
    "InProcessResult",
    "Target",
    "Variant",
    "add_bench_route",
    "fastapi_bare",
    "lifespan",
    "predicted_server_ratio",
    "raw_asgi",
    "reference_variants",
    "render_table",
    "run_in_process",
]

BENCH_PATH = "/bench"
BENCH_BODY = {"status": "ok", "service": "bench"}
BASELINE = "fastapi-bare"
SERVER_COST_US = 18.0
"""A real server's own CPU cost per request, added to both sides to predict its ratio."""

REQUEST_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"faster-bench/1"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
)
"""What every benchmark request carries (as a usual HTTP client sends); variants add their own."""


# -- the route every variant serves -------------------------------------------------------------


async def bench() -> dict[str, str]:
    """The measured endpoint: a small JSON dict."""
    return dict(BENCH_BODY)


def add_bench_route(app: FastAPI) -> FastAPI:
    """Add `GET /bench` to `app` and return it."""
    app.add_api_route(BENCH_PATH, bench, methods=["GET"])
    return app


def fastapi_bare() -> FastAPI:
    """The baseline: plain `FastAPI()` with the bench route."""
    return add_bench_route(FastAPI())


_RAW_BODY = json.dumps(BENCH_BODY).encode()


async def _raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_RAW_BODY))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _RAW_BODY})


def raw_asgi() -> ASGIApp:
    """The ceiling: a raw ASGI app answering the same JSON, no framework at all."""
    return _raw_app


# -- variants and targets -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What a variant is held to, against its baseline; every given bound must hold.

    `min_ratio` bounds the throughput ratio (in-process: the predicted server ratio; server
    mode: the measured req/s ratio). `max_overhead_us` bounds the extra time per request
    (in-process: µs per request; server mode: server CPU µs per request).
    `max_gen2_per_10k` bounds the full garbage collections per 10,000 requests in steady state
    (checked where they are counted: in-process). `note` is shown, not checked.
    """

    min_ratio: float | None = None
    max_overhead_us: float | None = None
    note: str = ""
    max_gen2_per_10k: float | None = None

    def describe(self) -> str:
        parts = []
        if self.max_overhead_us is not None:
            parts.append(f"<= +{self.max_overhead_us:g} µs")
        if self.min_ratio is not None:
            parts.append(f">= {self.min_ratio:g}x")
        if self.max_gen2_per_10k is not None:
            parts.append(f"gen2/10k <= {self.max_gen2_per_10k:g}")
        if self.note:
            parts.append(f"({self.note})")
        return " ".join(parts)

    def met(
        self, ratio: float, overhead_us: float, gen2_per_10k: float | None = None
    ) -> bool | None:
        """Whether every bound that can be checked holds; None when none can (a GC bound
        without a GC count, or no bound at all)."""
        checks = []
        if self.min_ratio is not None:
            checks.append(ratio >= self.min_ratio)
        if self.max_overhead_us is not None:
            checks.append(overhead_us <= self.max_overhead_us)
        if self.max_gen2_per_10k is not None and gen2_per_10k is not None:
            checks.append(gen2_per_10k <= self.max_gen2_per_10k)
        return all(checks) if checks else None


@dataclass(frozen=True, slots=True)
class Variant:
    """One app to measure.

    `factory` must be a module-level function (server mode imports it by name). `headers` are
    added to `REQUEST_HEADERS`; `expect_headers` are response header names that prove the
    variant's layers ran (checked once before timing). `server` says whether `--server` runs it
    when no `--only` is given.
    """

    name: str
    factory: Callable[[], ASGIApp]
    description: str
    target: Target | None = None
    baseline: str = BASELINE
    headers: tuple[tuple[bytes, bytes], ...] = ()
    expect_headers: tuple[str, ...] = ()
    server: bool = True

    def __post_init__(self) -> None:
        if "<" in self.factory.__qualname__:
            raise ValueError(f"variant {self.name!r}: the factory must be a module-level function")

    @property
    def import_path(self) -> str:
        """`module:function`, as uvicorn takes it."""
        return f"{self.factory.__module__}:{self.factory.__qualname__}"

    @property
    def request_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return REQUEST_HEADERS + self.headers


def reference_variants() -> list[Variant]:
    """The baseline every variant is compared with by default, and the raw ASGI ceiling."""
    return [
        Variant(BASELINE, fastapi_bare, "plain FastAPI() with the route: the baseline"),
        Variant(
            "raw-asgi",
            raw_asgi,
            "a raw ASGI app sending the same JSON: the ceiling; its server-mode CPU per request"
            " is the server's own cost",
        ),
    ]


def predicted_server_ratio(base_us: float, variant_us: float) -> float:
    """`(t_base + 18) / (t_variant + 18)`: the in-process ratio with a server's cost added."""
    return (base_us + SERVER_COST_US) / (variant_us + SERVER_COST_US)


# -- one request, by hand -----------------------------------------------------------------------


class _Exchange:
    """receive/send for one request: the empty body, then a disconnect once answered."""

    __slots__ = ("body", "done", "headers", "keep", "requested", "status")

    def __init__(self, keep: bool = False) -> None:
        self.requested = False
        self.done = False
        self.status = 0
        self.keep = keep
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    async def receive(self) -> Message:
        if not self.requested:
            self.requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if not self.done:  # a real server blocks here until the response is sent or the peer leaves
            raise RuntimeError("the app waited for a disconnect before answering")
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            if self.keep:
                self.headers = list(message.get("headers", ()))
        elif kind == "http.response.body":
            if self.keep:
                self.body += message.get("body", b"")
            if not message.get("more_body", False):
                self.done = True


def _scope(headers: Sequence[tuple[bytes, bytes]], state: Mapping[str, Any]) -> Scope:
    """What uvicorn passes for `GET /bench` over plain HTTP/1.1 on loopback."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": BENCH_PATH,
        "raw_path": BENCH_PATH.encode(),
        "query_string": b"",
        "headers": list(headers),
        "state": dict(state),
    }


async def _check(app: ASGIApp, variant: Variant, state: Mapping[str, Any]) -> None:
    """One request with the response kept: 200, the expected body and the expected headers."""
    exchange = _Exchange(keep=True)
    await app(_scope(variant.request_headers, state), exchange.receive, exchange.send)
    names = {key.decode("latin-1").lower() for key, _ in exchange.headers}
    missing = [name for name in variant.expect_headers if name.lower() not in names]
    if exchange.status != 200 or json.loads(exchange.body) != BENCH_BODY or missing:
        raise RuntimeError(
            f"variant {variant.name!r} answered {exchange.status} {exchange.body[:200]!r}"
            + (f", missing headers {missing}" if missing else "")
        )


async def _drive(
    app: ASGIApp, variant: Variant, state: Mapping[str, Any], requests: int, concurrency: int
) -> None:
    headers = variant.request_headers
    failures = 0

    async def worker(count: int) -> None:
        nonlocal failures
        for _ in range(count):
            exchange = _Exchange()
            await app(_scope(headers, state), exchange.receive, exchange.send)
            if exchange.status != 200:
                failures += 1

    share, extra = divmod(requests, concurrency)
    await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))
    if failures:
        raise RuntimeError(f"variant {variant.name!r}: {failures} of {requests} requests failed")


@asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[dict[str, Any]]:
    """Run `app`'s lifespan as uvicorn does; yield the state each request's scope gets a copy of."""
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": state}

    async def run() -> None:
        await app(scope, inbox.get, outbox.put)

    task = asyncio.create_task(run())

    async def step(kind: str) -> None:
        await inbox.put({"type": f"lifespan.{kind}"})
        reply = asyncio.ensure_future(outbox.get())
        await asyncio.wait({reply, task}, return_when=asyncio.FIRST_COMPLETED)
        if not reply.done():
            reply.cancel()
            task.result()  # re-raises what ended the lifespan
            raise RuntimeError(f"the lifespan ended without answering {kind}")
        message = reply.result()
        if message["type"] != f"lifespan.{kind}.complete":
            raise RuntimeError(f"lifespan {kind} failed: {message.get('message', '')}")

    await step("startup")
    try:
        yield state
    finally:
        await step("shutdown")
        await task


# -- garbage collections ------------------------------------------------------------------------


class _FullCollections:
    """Counts generation-2 collections (and their longest pause) while `active`."""

    def __init__(self) -> None:
        self.active = False
        self.count = 0
        self.max_pause_ms = 0.0
        self._started = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if not self.active or info["generation"] != 2:
            return
        if phase == "start":
            self.count += 1
            self._started = time.perf_counter_ns()
        else:
            pause = (time.perf_counter_ns() - self._started) / 1e6
            self.max_pause_ms = max(self.max_pause_ms, pause)


# -- the in-process run -------------------------------------------------------------------------


@dataclass(slots=True)
class InProcessResult:
    variant: Variant
    rounds_us: list[float] = field(default_factory=list)
    requests: int = 0
    full_gcs: int = 0
    max_gc_pause_ms: float = 0.0

    @property
    def median_us(self) -> float:
        return statistics.median(self.rounds_us)

    @property
    def spread_pct(self) -> float:
        """(slowest - fastest round) / median, in percent: how noisy this variant's rounds were."""
        return (max(self.rounds_us) - min(self.rounds_us)) / self.median_us * 100

    @property
    def gen2_per_10k(self) -> float:
        return self.full_gcs * 10_000 / self.requests


async def _measure(
    variants: Sequence[Variant], *, requests: int, rounds: int, concurrency: int
) -> list[InProcessResult]:
    results = [InProcessResult(v) for v in variants]
    collections = _FullCollections()
    gc.callbacks.append(collections)
    try:
        async with AsyncExitStack() as stack:
            apps: list[tuple[ASGIApp, Mapping[str, Any]]] = []
            for variant in variants:
                built = variant.factory()
                started_state = await stack.enter_async_context(lifespan(built))
                await _check(built, variant, started_state)
                apps.append((built, started_state))
            for (app, state), variant in zip(apps, variants, strict=True):  # warm-up, not timed
                await _drive(app, variant, state, max(requests // 4, concurrency), concurrency)
            for _ in range(rounds):
                for (app, state), result in zip(apps, results, strict=True):
                    gc.collect()
                    collections.active, collections.count, collections.max_pause_ms = True, 0, 0.0
                    started = time.perf_counter_ns()
                    await _drive(app, result.variant, state, requests, concurrency)
                    elapsed = time.perf_counter_ns() - started
                    collections.active = False
                    result.rounds_us.append(elapsed / 1000 / requests)
                    result.requests += requests
                    result.full_gcs += collections.count
                    result.max_gc_pause_ms = max(result.max_gc_pause_ms, collections.max_pause_ms)
    finally:
        gc.callbacks.remove(collections)
    return results


def run_in_process(
    variants: Sequence[Variant],
    *,
    requests: int,
    rounds: int,
    concurrency: int,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> list[InProcessResult]:
    """Measure `variants` (baselines included by the caller) and return one result each."""
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(
            _measure(variants, requests=requests, rounds=rounds, concurrency=concurrency)
        )


# -- the report ---------------------------------------------------------------------------------


def render_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    table = [list(header), *(list(row) for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(table[0]), rule, *(line(row) for row in table[1:])])
