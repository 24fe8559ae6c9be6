"""Deterministic per-request cost: instructions counted by callgrind (BENCHMARKS.md, method 3).

Wall-clock medians drift when other jobs share the machine; instruction counts do not. Each
variant runs twice under `valgrind --tool=callgrind` (LOW and HIGH sequential requests after
its lifespan starts) and the difference, divided by HIGH - LOW, is its count per request:
start-up and import cost cancel out. Instructions are turned into µs with the baseline's own
µs per instruction, timed once in this run, so µs targets can be checked.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from starlette.types import ASGIApp, Message

from benchmarks.harness import REQUEST_HEADERS, Variant, _scope, lifespan

__all__ = ["InstructionResult", "missing_tools", "run_instructions"]

LOW, HIGH = 200, 1_200
_COLLECTED = re.compile(r"Collected : (\d+)")


@dataclass(frozen=True, slots=True)
class InstructionResult:
    variant: Variant
    per_request: float


def missing_tools() -> list[str]:
    return [] if shutil.which("valgrind") else ["valgrind"]


def run_instructions(variants: Sequence[Variant], *, workers: int = 2) -> list[InstructionResult]:
    """Count each variant's instructions per request, `workers` valgrind runs at a time."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        counts = list(pool.map(_per_request, variants))
    return [InstructionResult(v, c) for v, c in zip(variants, counts, strict=True)]


def baseline_us_per_request(factory: Callable[[], ASGIApp], requests: int = 1_000) -> float:
    """The fastest of twenty short sequential timings (the least disturbed by other jobs), to
    turn instructions into µs."""
    return asyncio.run(_time(factory(), requests))


def _per_request(variant: Variant) -> float:
    low, high = _collected(variant, LOW), _collected(variant, HIGH)
    return (high - low) / (HIGH - LOW)


def _collected(variant: Variant, requests: int) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        variant.import_path,
        str(requests),
        *(f"{name.decode('latin-1')}={value.decode('latin-1')}" for name, value in variant.headers),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    found = _COLLECTED.search(result.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count for {variant.name}: {result.stderr[-500:]}")
    return int(found.group(1))


async def _drive(app: ASGIApp, requests: int, headers: Sequence[tuple[bytes, bytes]]) -> None:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    async with lifespan(app) as state:
        for _ in range(requests):
            await app(_scope(headers, state), receive, send)


async def _time(app: ASGIApp, requests: int) -> float:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    best = float("inf")
    async with lifespan(app) as state:
        for _ in range(20):
            started = time.perf_counter()
            for _ in range(requests):
                await app(_scope(REQUEST_HEADERS, state), receive, send)
            best = min(best, (time.perf_counter() - started) / requests * 1e6)
    return best


def _factory(import_path: str) -> Callable[[], ASGIApp]:
    module, name = import_path.split(":")
    factory: Callable[[], ASGIApp] = getattr(importlib.import_module(module), name)
    return factory


def _headers(pairs: Sequence[str]) -> list[tuple[bytes, bytes]]:
    extra = [tuple(p.encode("latin-1") for p in pair.split("=", 1)) for pair in pairs]
    return [*REQUEST_HEADERS, *((name, value) for name, value in extra)]


if __name__ == "__main__":
    asyncio.run(_drive(_factory(sys.argv[1])(), int(sys.argv[2]), _headers(sys.argv[3:])))
