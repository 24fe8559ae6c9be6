"""`python -m benchmarks`: measure every registered variant and print the table.

A package adds its variants by adding its module to `VARIANT_MODULES`; the module exposes
`variants() -> list[Variant]`. A module whose package is not installed is skipped with a note.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import importlib
import json
import os
import platform
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    BASELINE,
    SERVER_COST_US,
    InProcessResult,
    Variant,
    predicted_server_ratio,
    reference_variants,
    render_table,
    run_in_process,
)

VARIANT_MODULES = [
    "benchmarks.core",
    "benchmarks.db",
    "benchmarks.redis",
    "benchmarks.observability",
    "benchmarks.auth",
    "benchmarks.suite",
]


def registered_variants() -> list[Variant]:
    """The reference variants, then every module's in order; names must be unique."""
    found = reference_variants()
    for name in VARIANT_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            print(f"note: {name} skipped: {exc}")
            continue
        found.extend(module.variants())
    names = [v.name for v in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SystemExit(f"duplicate variant names: {', '.join(duplicates)}")
    return found


def select(
    everything: Sequence[Variant], patterns: Sequence[str], *, server: bool
) -> list[Variant]:
    """Variants matching any pattern (a variant's exact name, else a glob or a substring), with
    the baselines they need."""
    if patterns:
        names = {v.name for v in everything}
        chosen = [
            v
            for v in everything
            if any(
                v.name == p if p in names else fnmatch.fnmatchcase(v.name, p) or p in v.name
                for p in patterns
            )
        ]
        if not chosen:
            raise SystemExit(f"no variant matches {list(patterns)}; try --list")
    else:
        chosen = [v for v in everything if v.server or not server]
    return with_baselines(everything, chosen)


def with_baselines(everything: Sequence[Variant], chosen: Sequence[Variant]) -> list[Variant]:
    """`chosen` and the baselines they need (transitively), in registration order."""
    by_name = {v.name: v for v in everything}
    needed = {v.name for v in chosen}
    pending = [v.baseline for v in chosen]
    while pending:  # a baseline may have a baseline of its own (redis-enabled -> core-default)
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.append(by_name[name].baseline)
    return [v for v in everything if v.name in needed]


def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if name == "asyncio":
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = importlib.import_module(
        "uvloop"
    ).new_event_loop
    return factory


def _in_process_rows(
    results: Sequence[InProcessResult],
) -> tuple[list[list[str]], list[dict[str, Any]]]:
    by_name = {r.variant.name: r for r in results}
    rows, records = [], []
    for r in results:
        base = by_name[r.variant.baseline].median_us
        overhead = r.median_us - base
        ratio = base / r.median_us
        server_ratio = predicted_server_ratio(base, r.median_us)
        target = r.variant.target
        met = None if target is None else target.met(server_ratio, overhead, r.gen2_per_10k)
        is_base = r.variant.name == r.variant.baseline
        rows.append(
            [
                r.variant.name,
                f"{r.median_us:.1f}",
                f"{r.spread_pct:.0f}%",
                "" if is_base else f"{overhead:+.1f}",
                "" if is_base else f"{ratio:.3f}",
                "" if is_base else f"{server_ratio:.3f}",
                *_verdict_cells(r.variant, met),
                f"{r.gen2_per_10k:.2f}",
            ]
        )
        records.append(
            {
                "variant": r.variant.name,
                "description": r.variant.description,
                "baseline": r.variant.baseline,
                "rounds_us": r.rounds_us,
                "median_us": r.median_us,
                "overhead_us": overhead,
                "ratio": ratio,
                "predicted_server_ratio": server_ratio,
                "target": target.describe() if target else None,
                "met": met,
                "gen2_per_10k": r.gen2_per_10k,
                "max_gen2_pause_ms": r.max_gc_pause_ms,
            }
        )
    return rows, records


def in_process(variants: Sequence[Variant], args: argparse.Namespace) -> dict[str, Any]:
    print(
        f"in-process: {len(variants)} variants, {args.requests:,} requests x {args.rounds} rounds,"
        f" {args.concurrency} tasks, {args.loop} loop (rounds interleave the variants)\n"
    )
    results = run_in_process(
        variants,
        requests=args.requests,
        rounds=args.rounds,
        concurrency=args.concurrency,
        loop_factory=_loop_factory(args.loop),
    )
    rows, records = _in_process_rows(results)
    header = [
        "variant",
        "µs/req",
        "spread",
        "+µs",
        "ratio",
        "server ratio*",
        "target",
        "result",
        "gen2/10k",
    ]
    print(render_table(header, rows))
    print(
        f"\n* predicted real-server ratio (t_base + {SERVER_COST_US:g})"
        f" / (t_variant + {SERVER_COST_US:g});"
        " ratio targets apply to it, µs targets to +µs (in-process, per request)."
        "\n  spread: (slowest - fastest round) / median. Targets are measurements, not tests:"
        " the exit code is 0 either way."
    )
    _print_descriptions(variants)
    return {"mode": "in-process", "results": records}


def server(variants: Sequence[Variant], args: argparse.Namespace) -> dict[str, Any] | None:
    from benchmarks.server import missing_tools, run_server

    missing = missing_tools()
    if missing:
        print(
            f"server mode skipped: {', '.join(missing)} not installed (Debian: apt-get install wrk)"
        )
        return None
    print(
        f"server: {len(variants)} variants x {args.repeats} runs, uvicorn (uvloop, httptools) on"
        f" core 0, wrk -t1 -c{args.concurrency} -d{args.duration}s on core 1\n"
    )
    results = run_server(
        variants, repeats=args.repeats, duration=args.duration, concurrency=args.concurrency
    )
    by_name = {r.variant.name: r for r in results}
    rows, records = [], []
    for r in results:
        base = by_name[r.variant.baseline]
        ratio = r.median_rps / base.median_rps
        overhead = r.median_cpu_us - base.median_cpu_us
        target = r.variant.target
        met = None if target is None else target.met(ratio, overhead)
        is_base = r.variant.name == r.variant.baseline
        rows.append(
            [
                r.variant.name,
                f"{r.median_rps:,.0f}",
                f"{ratio:.3f}",
                f"{r.median_cpu_us:.1f}",
                "" if is_base else f"{overhead:+.1f}",
                *_verdict_cells(r.variant, met),
            ]
        )
        records.append(
            {
                "variant": r.variant.name,
                "baseline": r.variant.baseline,
                "rps": r.rps,
                "median_rps": r.median_rps,
                "ratio": ratio,
                "cpu_us": r.cpu_us,
                "median_cpu_us": r.median_cpu_us,
                "cpu_overhead_us": overhead,
                "target": target.describe() if target else None,
                "met": met,
            }
        )
    print()
    print(
        render_table(
            ["variant", "req/s", "ratio", "CPU µs/req", "+CPU µs", "target", "result"], rows
        )
    )
    print(
        "\nmedians of the runs; ratio targets apply to req/s, µs targets to server CPU per request."
    )
    return {"mode": "server", "results": records}


def latency(variants: Sequence[Variant], args: argparse.Namespace) -> dict[str, Any] | None:
    from benchmarks.latency import MAX_LAG_MS, P50_FACTOR, P999_LIMIT_MS, run_latency, verdict
    from benchmarks.server import missing_tools

    missing = missing_tools()
    if missing:
        print(f"latency mode skipped: {', '.join(missing)} not installed (Debian: wrk)")
        return None
    print(
        f"latency: {len(variants)} variants x {args.repeats} runs, uvicorn (uvloop, httptools) on"
        f" core 0; capacity from wrk -c{args.concurrency}, then an open loop on core 1 offering"
        f" {args.fraction:g} of it for {args.duration} s ({args.concurrency} connections)\n"
    )
    results = run_latency(
        variants,
        repeats=args.repeats,
        duration=args.duration,
        concurrency=args.concurrency,
        fraction=args.fraction,
    )
    by_name = {r.variant.name: r for r in results}
    target = f"p50 <= {P50_FACTOR:g}x base, p99.9 <= {P999_LIMIT_MS:g} ms, 0 full GCs"
    rows: list[list[str]] = []
    records: list[dict[str, Any]] = []
    for r in results:
        base = by_name[r.variant.baseline]
        is_base = r.variant.name == r.variant.baseline
        if not r.runs or not base.runs:
            rows.append([r.variant.name, *[""] * 9, "baseline" if is_base else target, "FAILED"])
            records.append({"variant": r.variant.name, "failures": r.failures, "met": None})
            continue
        p50_ok, p999_ok, gc_ok = verdict(r, base)
        met = None if is_base else (p50_ok and p999_ok and gc_ok and r.errors == 0)
        p50_ratio = r.median("latency_ms", "p50") / base.median("latency_ms", "p50")
        lagged = max(r.median("lag_ms", "p99.9"), base.median("lag_ms", "p99.9")) > MAX_LAG_MS
        result = {None: "", True: "met", False: "NOT MET"}[met] + (
            "?" if lagged and met is not None else ""
        )
        rows.append(
            [
                r.variant.name,
                f"{r.median('capacity'):,.0f}",
                f"{r.median('rate'):,.0f}",
                f"{r.median('latency_ms', 'p50'):.2f}",
                f"{r.median('latency_ms', 'p99'):.2f}",
                f"{r.median('latency_ms', 'p99.9'):.2f}",
                "" if is_base else f"{p50_ratio:.2f}x",
                f"{r.median('lag_ms', 'p99.9'):.2f}",
                f"{r.full_gc_per_10k:.2f}",
                str(r.errors),
                "baseline" if is_base else target,
                result,
            ]
        )
        records.append(
            {
                "variant": r.variant.name,
                "baseline": r.variant.baseline,
                "runs": r.runs,
                "median_capacity_rps": r.median("capacity"),
                "median_offered_rps": r.median("rate"),
                "median_latency_ms": {
                    p: r.median("latency_ms", p) for p in ("p50", "p99", "p99.9", "p100")
                },
                "median_generator_lag_ms_p99_9": r.median("lag_ms", "p99.9"),
                "p50_vs_baseline": p50_ratio,
                "errors": r.errors,
                "failures": r.failures,
                "target": None if is_base else target,
                "p50_met": None if is_base else p50_ok,
                "p99_9_met": None if is_base else p999_ok,
                "full_gc_per_10k": r.full_gc_per_10k,
                "met": met,
                "generator_lagged": lagged,
            }
        )
    header = [
        "variant",
        "capacity",
        "offered",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "p50/base",
        "lag p99.9",
        "full GC/10k",
        "errors",
        "target",
        "result",
    ]
    print()
    print(render_table(header, rows))
    print(
        "\nmedians of the runs; latencies from each request's scheduled send time (open loop)."
        f"\n  ?: the generator lagged more than {MAX_LAG_MS:g} ms at p99.9 (for this row or its"
        " baseline): the\n  machine was too loaded for the row to judge the code."
        "\n  lag p99.9: the generator's own lateness in handing requests over, included in the"
        " latencies\n  (a figure near the target means the generator, not the server, is the"
        " limit)."
        "\n  full GC/10k: full garbage collections in the worker while the open loop measured,"
        " per 10,000\n  requests over every run."
    )
    return {"mode": "latency", "results": records}


def instructions(variants: Sequence[Variant], args: argparse.Namespace) -> dict[str, Any] | None:
    from benchmarks.instructions import baseline_us_per_request, missing_tools, run_instructions

    missing = missing_tools()
    if missing:
        print(f"instruction mode skipped: {', '.join(missing)} not installed")
        return None
    print(f"instructions: {len(variants)} variants under callgrind, two runs each\n")
    results = run_instructions(variants)
    by_name = {r.variant.name: r for r in results}
    base_us = baseline_us_per_request(by_name[BASELINE].variant.factory)
    us_per_instruction = base_us / by_name[BASELINE].per_request
    rows, records = [], []
    for r in results:
        base = by_name[r.variant.baseline].per_request
        overhead_us = (r.per_request - base) * us_per_instruction
        base_total = base * us_per_instruction
        server_ratio = predicted_server_ratio(base_total, base_total + overhead_us)
        target = r.variant.target
        met = None if target is None else target.met(server_ratio, overhead_us)
        is_base = r.variant.name == r.variant.baseline
        rows.append(
            [
                r.variant.name,
                f"{r.per_request:,.0f}",
                "" if is_base else f"{r.per_request - base:+,.0f}",
                "" if is_base else f"{overhead_us:+.1f}",
                "" if is_base else f"{server_ratio:.3f}",
                *_verdict_cells(r.variant, met),
            ]
        )
        records.append(
            {
                "variant": r.variant.name,
                "instructions_per_request": r.per_request,
                "overhead_us_estimate": overhead_us,
                "predicted_server_ratio": server_ratio,
                "target": target.describe() if target else None,
                "met": met,
            }
        )
    header = ["variant", "instr/req", "+instr", "≈ +µs", "server ratio*", "target", "result"]
    print(render_table(header, rows))
    print(
        f"\n≈ +µs: extra instructions x the baseline's {us_per_instruction * 1000:.3f} ns per"
        f" instruction ({base_us:.1f} µs per request timed in this run).\n* predicted real-server"
        f" ratio (t_base + {SERVER_COST_US:g}) / (t_variant + {SERVER_COST_US:g})."
    )
    _print_descriptions(variants)
    return {"mode": "instructions", "results": records}


SUITE_PATTERNS = ("suite-*", "fastapi-db-plain")
"""What `--suite` measures (with the baselines they need) when no `--only` is given."""


def _latency_defaults(everything: Sequence[Variant]) -> list[Variant]:
    """The suite's latency variants when the suite module is loaded, else every server variant."""
    try:
        from benchmarks.suite import LATENCY_VARIANTS
    except ModuleNotFoundError:
        return [v for v in everything if v.server]
    return [v for v in everything if v.name in LATENCY_VARIANTS]


def suite(
    everything: Sequence[Variant], variants: Sequence[Variant], args: argparse.Namespace
) -> dict[str, Any]:
    """The suite variants (in-process, or instruction counts), then the latency mode on the
    suite's latency variants, then one table with every suite target of issue 7."""
    measured = instructions(variants, args) if args.instructions else in_process(variants, args)
    names = {v.name for v in variants}
    chosen = [v for v in _latency_defaults(everything) if v.name in names]
    print()
    timed = latency(with_baselines(everything, chosen), args) if chosen else None
    report: dict[str, Any] = {"mode": "suite", "throughput": measured, "latency": timed}
    rows = _suite_rows(measured, timed)
    report["targets"] = [
        dict(zip(("target", "variant", "measured", "result"), row, strict=True)) for row in rows
    ]
    print("\nsuite targets (issue 7)\n")
    print(render_table(["target", "variant", "measured", "result"], rows))
    return report


def _suite_rows(measured: dict[str, Any] | None, timed: dict[str, Any] | None) -> list[list[str]]:
    throughput = {r["variant"]: r for r in (measured or {}).get("results", [])}
    latencies = {r["variant"]: r for r in (timed or {}).get("results", [])}
    verdict = {None: "not measured", True: "met", False: "NOT MET"}
    rows = []
    for name, minimum, what in (
        ("suite-full-stack", 0.75, "full default stack, trivial route: >= 0.75x bare FastAPI"),
        ("suite-db-session", 0.90, "full default stack, DB route: >= 0.90x without plugins"),
    ):
        record = throughput.get(name)
        ratio = None if record is None else record["predicted_server_ratio"]
        met = None if ratio is None else ratio >= minimum
        rows.append([what, name, "" if ratio is None else f"{ratio:.3f}x*", verdict[met]])
    for name in ("suite-full-stack", "suite-db-session"):
        record = latencies.get(name)
        if record is None or "p50_vs_baseline" not in record:
            status = verdict[None] if record is None else "FAILED"
            rows.append(["fixed load: p50 <= 2x bare", name, "", status])
            rows.append(["fixed load: p99.9 <= 5 ms", name, "", status])
            continue
        p50 = f"{record['p50_vs_baseline']:.2f}x ({record['baseline']})"
        p999 = f"{record['median_latency_ms']['p99.9']:.2f} ms"
        mark = "?" if record["generator_lagged"] else ""
        rows.append(["fixed load: p50 <= 2x bare", name, p50, verdict[record["p50_met"]] + mark])
        rows.append(["fixed load: p99.9 <= 5 ms", name, p999, verdict[record["p99_9_met"]] + mark])
    for name in ("suite-full-stack", "suite-db-session"):
        # the issue counts them at the fixed load, in the worker; in-process when not measured
        timed_record = latencies.get(name) or {}
        gen2 = timed_record.get("full_gc_per_10k")
        where = "fixed load, worker"
        if gen2 is None:
            gen2 = (throughput.get(name) or {}).get("gen2_per_10k")
            where = "in-process"
        met = None if gen2 is None else gen2 == 0
        rows.append(
            [
                "full GCs per 10,000 requests: 0",
                name,
                "" if gen2 is None else f"{gen2:.2f} ({where})",
                verdict[met],
            ]
        )
    return rows


def _verdict_cells(variant: Variant, met: bool | None) -> tuple[str, str]:
    """The target and result columns of a variant's row."""
    if variant.name == variant.baseline:
        return "baseline", ""
    target = variant.target.describe() if variant.target else "-"
    return target, {None: "", True: "met", False: "NOT MET"}[met]


def _print_descriptions(variants: Sequence[Variant]) -> None:
    print()
    width = max(len(v.name) for v in variants)
    for v in variants:
        print(f"  {v.name:<{width}}  {v.description}")


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "fastapi": version("fastapi"),
        "starlette": version("starlette"),
        "faster-core": version("faster-core"),
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--requests", type=int, default=20_000, help="requests per round (in-process)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds per variant (in-process)")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="concurrent tasks / connections"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="variants whose name matches (glob or substring); repeatable",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("--list", action="store_true", help="list the variants and exit")
    parser.add_argument(
        "--loop",
        choices=["uvloop", "asyncio"],
        default="uvloop",
        help="event loop for the in-process driver",
    )
    parser.add_argument(
        "--server",
        action="store_true",
        help="acceptance mode: real uvicorn + wrk instead of in-process",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="deterministic mode: callgrind instruction counts per request",
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="latency at a fixed offered load: uvicorn + wrk for capacity, then an open loop",
    )
    parser.add_argument(
        "--suite",
        action="store_true",
        help="the suite's targets (issue 7): the suite variants in-process (or --instructions),"
        " then --latency on the suite's latency variants; one table of targets",
    )
    parser.add_argument(
        "--fraction",
        type=float,
        default=0.5,
        help="offered load as a fraction of capacity (--latency)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per variant (--server, --latency)"
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=10,
        help="seconds per wrk run (--server) / of open-loop load (--latency)",
    )
    args = parser.parse_args(argv)
    if min(args.requests, args.rounds, args.concurrency, args.repeats, args.duration) < 1:
        parser.error("counts and durations must be positive")
    if not 0 < args.fraction <= 1:
        parser.error("--fraction must be in (0, 1]")
    if args.server + args.latency + args.suite > 1:
        parser.error("pick one of --server, --latency, --suite")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    everything = registered_variants()
    if args.list:
        _print_descriptions(everything)
        return 0
    if args.suite:
        variants = select(everything, args.only or SUITE_PATTERNS, server=False)
    elif args.latency and not args.only:
        variants = with_baselines(everything, _latency_defaults(everything))
    else:
        variants = select(everything, args.only, server=args.server)
    if args.instructions and BASELINE not in {v.name for v in variants}:
        # instruction counts are turned into µs with the bare baseline's timing
        bare = [v for v in everything if v.name == BASELINE]
        variants = with_baselines(everything, [*variants, *bare])
    machine = _machine()
    print(
        f"python {machine['python']}, fastapi {machine['fastapi']},"
        f" starlette {machine['starlette']},"
        f" faster-core {machine['faster-core']}; {machine['cpus']} CPUs, load average"
        f" {' '.join(f'{x:.2f}' for x in machine['loadavg'])}"
    )
    report: dict[str, Any] | None
    if args.suite:
        report = suite(everything, variants, args)
    elif args.latency:
        report = latency(variants, args)
    elif args.server:
        report = server(variants, args)
    elif args.instructions:
        report = instructions(variants, args)
    else:
        report = in_process(variants, args)
    if report is not None and args.json is not None:
        report |= {"machine": machine, "options": {k: str(v) for k, v in vars(args).items()}}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
