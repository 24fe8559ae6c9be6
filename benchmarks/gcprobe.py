"""A uvicorn factory that serves a variant's app and logs the worker's full garbage collections.

`--latency` serves every variant through it, so that its table counts the full collections the
worker made while the open loop measured (BENCHMARKS.md, method 4), in the process that served
the requests. Two environment variables drive it:

- `FASTER_BENCH_APP`: the variant's factory, `module:function`;
- `FASTER_BENCH_GC_LOG`: a file that gets one line per full collection, `END DURATION`, both in
  seconds of `time.perf_counter()` (system-wide on Linux, as the generator's window is).
"""

from __future__ import annotations

import gc
import importlib
import os
import time
from typing import Any

__all__ = ["APP_VARIABLE", "LOG_VARIABLE", "full_collections", "serve"]

APP_VARIABLE = "FASTER_BENCH_APP"
LOG_VARIABLE = "FASTER_BENCH_GC_LOG"


def serve() -> Any:
    module, _, name = os.environ[APP_VARIABLE].partition(":")
    app = getattr(importlib.import_module(module), name)()
    log = open(os.environ[LOG_VARIABLE], "a", buffering=1)  # noqa: SIM115 - the worker's lifetime
    started = 0.0

    def record(phase: str, info: dict[str, int]) -> None:
        nonlocal started
        if info["generation"] != 2:
            return
        now = time.perf_counter()
        if phase == "start":
            started = now
        else:
            log.write(f"{now:.6f} {now - started:.6f}\n")

    gc.callbacks.append(record)
    return app


def full_collections(path: str, start: float, end: float) -> list[float]:
    """Durations (s) of the full collections logged at `path` that ended within `[start, end]`."""
    with open(path) as log:
        pairs = [tuple(map(float, line.split())) for line in log if line.strip()]
    return [duration for ended, duration in pairs if start <= ended <= end]
