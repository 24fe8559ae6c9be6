"""Latency at a fixed offered load (BENCHMARKS.md, method 2): half of capacity, open loop.

For each variant and repetition: a fresh uvicorn worker pinned to core 0 (as `--server` runs
it), a 2 s wrk warm-up, then its capacity measured with `wrk` (closed loop, saturating), then
`benchmarks.loadgen` pinned to core 1 offers `fraction` (0.5) of *that variant's* capacity at a
constant rate and measures every latency from the request's scheduled send time. Percentiles at
saturation would measure the queue; at half of capacity they measure the code and its pauses.
Repetitions alternate the variants; the report takes the median of each figure over them.
The worker logs its full garbage collections (`benchmarks.gcprobe`); those that ended while the
open loop measured are counted (method 4), per 10,000 requests over every run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.gcprobe import full_collections
from benchmarks.harness import Variant
from benchmarks.server import ROOT, WARMUP_SECONDS, serving, wrk

__all__ = [
    "MAX_LAG_MS",
    "P50_FACTOR",
    "P999_LIMIT_MS",
    "LatencyResult",
    "run_latency",
    "verdict",
]

P50_FACTOR = 2.0
"""p50 at most this many times the baseline's p50."""
P999_LIMIT_MS = 5.0
"""p99.9 at most this many milliseconds."""
MAX_LAG_MS = P999_LIMIT_MS / 2
"""A generator later than this at p99.9 was starved by other jobs: its row judges the machine."""


@dataclass(slots=True)
class LatencyResult:
    variant: Variant
    runs: list[dict[str, Any]] = field(default_factory=list)
    """One loadgen report per run, with the run's `capacity` (req/s) added."""
    failures: list[str] = field(default_factory=list)
    """Why runs failed (a server that would not start, wrk errors at capacity, ...)."""

    def median(self, key: str, pct: str | None = None) -> float:
        values = [run[key] if pct is None else run[key][pct] for run in self.runs]
        return float(statistics.median(values))

    @property
    def full_gc_per_10k(self) -> float:
        """Full collections in the worker while the open loop measured, per 10,000 requests,
        over every run."""
        completed = sum(int(run["completed"]) for run in self.runs)
        return sum(len(run["full_gc_ms"]) for run in self.runs) * 10_000 / max(completed, 1)

    @property
    def errors(self) -> int:
        """Failed connections plus non-200 answers over every run."""
        return sum(
            run["errors"]
            + sum(n for status, n in run["statuses"].items() if status != "200")
            + max(0, run["scheduled"] - run["completed"] - run["errors"])
            for run in self.runs
        )


def run_latency(
    variants: Sequence[Variant],
    *,
    repeats: int,
    duration: int,
    concurrency: int,
    fraction: float = 0.5,
) -> list[LatencyResult]:
    """`repeats` runs of every variant, alternating; a fresh server each run."""
    results = [LatencyResult(v) for v in variants]
    pin = (os.cpu_count() or 1) > 1
    capacity_seconds = max(3, duration // 2)
    for rep in range(1, repeats + 1):
        for result in results:
            variant = result.variant
            descriptor, gc_log = tempfile.mkstemp(prefix="faster-bench-gc-")
            os.close(descriptor)
            try:
                with serving(variant, gc_log=gc_log) as (_, port):
                    wrk(variant, port, WARMUP_SECONDS, concurrency, pin_wrk=pin, strict=False)
                    requests, seconds = wrk(
                        variant, port, capacity_seconds, concurrency, pin_wrk=pin
                    )
                    capacity = requests / seconds
                    report = _loadgen(
                        variant,
                        port,
                        capacity * fraction,
                        duration,
                        connections=concurrency,
                        pin=pin,
                    )
                pauses = full_collections(gc_log, report["measured_from"], report["ended"])
            except (RuntimeError, subprocess.SubprocessError) as exc:
                result.failures.append(str(exc))
                print(f"  run {rep}/{repeats} {variant.name:<24} FAILED: {exc}", flush=True)
                continue
            finally:
                os.unlink(gc_log)
            report["capacity"] = capacity
            report["full_gc_ms"] = [pause * 1000 for pause in pauses]
            result.runs.append(report)
            ms = report["latency_ms"]
            print(
                f"  run {rep}/{repeats} {variant.name:<24} capacity {capacity:>8,.0f} req/s,"
                f" offered {report['rate']:>7,.0f}: p50 {ms['p50']:.2f} p99 {ms['p99']:.2f}"
                f" p99.9 {ms['p99.9']:.2f} ms (generator lag p99.9"
                f" {report['lag_ms']['p99.9']:.2f} ms), {len(pauses)} full GCs",
                flush=True,
            )
    return results


def _loadgen(
    variant: Variant, port: int, rate: float, duration: int, *, connections: int, pin: bool
) -> dict[str, Any]:
    headers = [
        arg
        for key, value in variant.request_headers
        if key != b"host"  # the generator sends the Host it connects to
        for arg in ("-H", f"{key.decode('latin-1')}: {value.decode('latin-1')}")
    ]
    command = [
        *(["taskset", "-c", "1"] if pin else []),
        sys.executable,
        "-m",
        "benchmarks.loadgen",
        str(port),
        f"{rate:.1f}",
        str(duration),
        "--connections",
        str(connections),
        *headers,
    ]
    out = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=duration + 120
    ).stdout
    report: dict[str, Any] = json.loads(out)
    return report


def verdict(result: LatencyResult, baseline: LatencyResult) -> tuple[bool, bool, bool]:
    """(p50 at most 2x the baseline's, p99.9 at most 5 ms, on the medians over the runs; no full
    collection in the worker over all of them)."""
    p50_ok = result.median("latency_ms", "p50") <= P50_FACTOR * baseline.median("latency_ms", "p50")
    p999_ok = result.median("latency_ms", "p99.9") <= P999_LIMIT_MS
    return p50_ok, p999_ok, result.full_gc_per_10k == 0
