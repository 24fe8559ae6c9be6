"""An open-loop HTTP/1.1 load generator: requests on a fixed timetable, latency from the timetable.

wrk2 (which corrects for coordinated omission) is not in Debian, so `--latency` runs this instead,
as `python -m benchmarks.loadgen` pinned to the core the server does not use. Request `i` is due
at `start + i / rate` whatever happened before it; a dispatcher hands due requests to a pool of
keep-alive connections (one request in flight each, as HTTP/1.1 without pipelining allows), and
each latency is measured from the request's *scheduled* time to the end of its response. A
server that stalls therefore charges every request that should have been sent meanwhile with
the time it waited, instead of the closed loop's single slow sample (coordinated omission).

The dispatcher's own lateness (scheduled time to hand-over) is reported too: it is part of every
latency, so a figure is only as good as the generator's lag is small. Only 127.0.0.1 is a target.

    python -m benchmarks.loadgen PORT RATE SECONDS [--warmup S] [--connections N] [-H 'k: v']

prints one JSON object: scheduled, completed, errors, statuses, achieved rate, the measured window
(`measured_from`, `ended`: `time.perf_counter()`, which is system-wide on Linux, so a server's own
timestamps can be compared), and percentiles (ms) of the latency and of the dispatcher's lag, over
the requests scheduled after the warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["percentile", "run"]

HOST = "127.0.0.1"
PATH = "/bench"
PERCENTILES = (50.0, 90.0, 99.0, 99.9, 100.0)


def percentile(ordered: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile of already sorted values (0 for none)."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil(n * pct / 100), at least 1
    return ordered[min(len(ordered), int(rank)) - 1]


def _request(headers: Sequence[str], port: int) -> bytes:
    lines = [f"GET {PATH} HTTP/1.1", f"host: {HOST}:{port}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length framed); return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, rest = head.partition(b"\r\n")
    length = None
    for line in rest.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise RuntimeError(f"a response without Content-Length: {head[:200]!r}")
    await reader.readexactly(length)
    return int(status_line.split(b" ", 2)[1])


async def run(
    port: int,
    rate: float,
    seconds: float,
    *,
    warmup: float = 2.0,
    connections: int = 32,
    headers: Sequence[str] = (),
) -> dict[str, Any]:
    """Offer `rate` requests/s for `warmup + seconds`; measure those scheduled after `warmup`."""
    clock = time.perf_counter  # the loop's clock (libuv) has millisecond resolution
    request = _request(headers, port)
    queue: asyncio.Queue[tuple[float, float] | None] = asyncio.Queue()
    interval = 1.0 / rate
    total = int(rate * (warmup + seconds))
    latencies: list[float] = []
    lags: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    streams = [await asyncio.open_connection(HOST, port) for _ in range(connections)]
    start = clock() + 0.05
    measured_from = start + warmup

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal errors
        while (item := await queue.get()) is not None:
            scheduled, handed = item
            writer.write(request)
            try:
                status = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, RuntimeError, ValueError):
                errors += 1
                return
            done = clock()
            if scheduled >= measured_from:
                latencies.append(done - scheduled)
                lags.append(handed - scheduled)
                statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    async def dispatcher() -> None:
        i = 0
        while i < total:
            now = clock()
            while i < total and start + i * interval <= now:
                queue.put_nowait((start + i * interval, now))
                i += 1
            if i < total:
                # The loop's timers have millisecond resolution, so a request is handed over up
                # to about 1 ms late (the lag, reported). Spinning instead was tried: on a loaded
                # machine the scheduler then preempts the generator and the lag grows tenfold.
                await asyncio.sleep(max(0.0, start + i * interval - clock()))
        for _ in streams:
            queue.put_nowait(None)

    workers = [asyncio.create_task(connection(r, w)) for r, w in streams]
    await dispatcher()
    await asyncio.gather(*workers)
    ended = clock()
    latencies.sort()
    lags.sort()
    completed = len(latencies)
    return {
        "rate": rate,
        "seconds": seconds,
        "scheduled": sum(1 for i in range(total) if start + i * interval >= measured_from),
        "completed": completed,
        "errors": errors,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "achieved_rate": completed / max(ended - measured_from, 1e-9),
        "measured_from": measured_from,
        "ended": ended,
        "latency_ms": {f"p{p:g}": percentile(latencies, p) * 1000 for p in PERCENTILES},
        "lag_ms": {f"p{p:g}": percentile(lags, p) * 1000 for p in PERCENTILES},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadgen", description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("rate", type=float, help="requests per second, on a fixed timetable")
    parser.add_argument("seconds", type=float, help="measured seconds (after the warm-up)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("-H", dest="headers", action="append", default=[], metavar="'k: v'")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.connections < 1:
        parser.error("rate, seconds and connections must be positive")
    factory = None
    if args.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    # The generator's own collections would stall the timetable and be charged to the server; a
    # run allocates a bounded amount (two floats and a tuple per request), so it does without.
    gc.freeze()
    gc.disable()
    with asyncio.Runner(loop_factory=factory) as runner:
        report = runner.run(
            run(
                args.port,
                args.rate,
                args.seconds,
                warmup=args.warmup,
                connections=args.connections,
                headers=args.headers,
            )
        )
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
