"""The latency cases → latency.csv and latency_hist.csv rows: single hand-offs, each timed.

The tail, not just the median. Each hand-off of a two-sided ping-pong is timed on
one clock: the giver reads it just before it hands off, the woken side as soon as
it runs, and the difference is that hand-off's latency. The C cases run
c/latency.c (sb_latency_pingpong: the same ring primitives, placement and pinning as
their throughput cases, on CLOCK_MONOTONIC) in one worker process per case
(`python -m bench.measure.latency`, so that a hung side is killed by a timeout and
not the run), `runs` fresh pairs of threads or processes in turn; the Go cases run
the driver's -latency mode (go/switching/latency.go, unbuffered channels,
time.Since on the monotonic clock) once per run, a process each, and read the
runtime's /sched/latencies:seconds histogram around the same region. Both also time
back-to-back pairs of their clock read, the clock's own share of every latency.

None of this touches the throughput cases' loops: their code carries no timestamps.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bench.analysis import latency as stats
from bench.catalogue.cases import Case, get_case
from bench.catalogue.placement import pin_cpus, skip_reason, usable_cpus
from bench.measure.programs import NotMeasured, json_lines
from bench.native.build import Artifacts
from bench.results.schema import LATENCY_COLUMNS, LATENCY_HIST_COLUMNS

CASES = (
    "go.chan.p1",
    "go.chan.p2",
    "c.futex.same-core",
    "c.futex.cross-core",
    "c.condvar.same-core",
    "c.condvar.cross-core",
    "c.pipe.procs.same-core",
)
C_CLOCK = "clock_gettime(CLOCK_MONOTONIC)"
GO_CLOCK = "time.Since (the runtime's nanotime: CLOCK_MONOTONIC through the vDSO)"
CLOCK_PAIRS = 10_000  # back-to-back clock reads timed per C worker (the Go driver: its own)
# Seconds a case's process may take: a start-up allowance and a generous 1 ms a hand-off.
START_S, PER_HANDOFF_S = 30.0, 1e-3


_Failed = NotMeasured  # a case that could not be measured: its row says why


@dataclass
class _Measured:
    runs: list[np.ndarray]
    clock_gaps: np.ndarray
    sched: list[dict] = field(default_factory=list)  # the Go runtime's buckets, all runs
    sched_error: str = ""


def _checked(values: object, handoffs: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.int64)
    if array.shape != (handoffs,):
        raise _Failed(f"asked for {handoffs:,} hand-offs, got {array.size:,} latencies")
    if (array <= 0).any():
        raise _Failed(
            f"{int((array <= 0).sum())} hand-offs took no time or less: the clock went back"
        )
    return array


def _measure_c(case: Case, artifacts: Artifacts, runs: int, handoffs: int) -> _Measured:
    cpu_a, cpu_b = pin_cpus(case.placement, usable_cpus())
    argv = [sys.executable, "-m", "bench.measure.latency", str(artifacts.c_library)]
    argv += [case.c_primitive, str(int(case.processes)), str(cpu_a), str(cpu_b)]
    argv += [str(handoffs), str(runs)]
    (result,) = json_lines(argv, START_S + PER_HANDOFF_S * runs * handoffs)[-1:]
    if result.get("error"):
        raise _Failed(str(result["error"]))
    per_run = [_checked(r, handoffs) for r in result.get("runs", [])]
    if len(per_run) != runs:
        raise _Failed(f"asked for {runs} runs, the worker made {len(per_run)}")
    return _Measured(per_run, np.asarray(result.get("clock_gap_ns", []), dtype=np.int64))


def _measure_go(case: Case, artifacts: Artifacts, runs: int, handoffs: int) -> _Measured:
    argv = [str(artifacts.go_driver), "-latency", str(handoffs)]
    argv += ["-gomaxprocs", str(case.gomaxprocs)]
    measured = _Measured([], np.array([], dtype=np.int64))
    for _ in range(runs):
        (result,) = json_lines(argv, START_S + PER_HANDOFF_S * handoffs)[-1:]
        measured.runs.append(_checked(result.get("latency_ns"), handoffs))
        gaps = np.asarray(result.get("clock_gap_ns", []), dtype=np.int64)
        measured.clock_gaps = np.concatenate([measured.clock_gaps, gaps])
        measured.sched += list(result.get("sched") or [])
        measured.sched_error = str(result.get("sched_error") or measured.sched_error)
    return measured


def _what(case: Case) -> tuple[str, str]:
    """(what a timestamp pair spans, the clock) for a case."""
    if case.lang == "go":
        return (
            f"two goroutines, unbuffered channels, GOMAXPROCS={case.gomaxprocs}: from the "
            "sender's clock read just before its send to the receiver's just after its "
            "receive returns",
            GO_CLOCK,
        )
    who = "a thread and a process" if case.processes else "two threads"
    return (
        f"{who}, {case.c_primitive} hand-off, {case.placement}: from the giver's clock read "
        "just before it hands the turn on to the woken side's as soon as its wait returns",
        C_CLOCK,
    )


def _runtime(measured: _Measured, case: Case) -> dict:
    """The Go runtime's own histogram's p50 and p99, or why there are none."""
    if case.lang != "go":
        return {"runtime_note": "not a goroutine case"}
    if measured.sched_error:
        return {"runtime_note": measured.sched_error}
    buckets = pd.DataFrame(measured.sched, columns=["low_s", "high_s", "count"])
    buckets = buckets.groupby(["low_s", "high_s"], dropna=False, as_index=False)["count"].sum()
    return {
        "runtime_p50_ns": stats.bucket_percentile(buckets, 50.0),
        "runtime_p99_ns": stats.bucket_percentile(buckets, 99.0),
        "runtime_events": int(buckets["count"].sum()),
        "runtime_note": "/sched/latencies:seconds over the same region, all runs; "
        "the runtime samples a share of scheduling events; percentile = upper "
        "boundary of its bucket",
    }


def _case_rows(case_id: str, artifacts: Artifacts, runs: int, handoffs: int) -> tuple[dict, list]:
    """One case's latency.csv row and latency_hist.csv rows."""
    case = get_case(case_id)
    what, clock = _what(case)
    row: dict = dict.fromkeys(LATENCY_COLUMNS, math.nan)
    row.update(case=case_id, status="failed", reason="", lang=case.lang, what=what, clock=clock)
    row["runtime_note"] = ""
    start = time.monotonic()
    try:
        why = skip_reason(case, usable_cpus())
        if why:
            raise _Failed(why, "skipped")
        measure = _measure_go if case.lang == "go" else _measure_c
        measured = measure(case, artifacts, runs, handoffs)
    except _Failed as e:
        row.update(status=e.status, reason=str(e), wall_s=round(time.monotonic() - start, 2))
        return row, []
    values = np.concatenate(measured.runs)
    summary = stats.summarise(measured.runs)
    for name in ("p50", "p90", "p99", "p99_9", "p99_99", "max", "min"):
        row[f"{name}_ns"] = summary[name]
    for name in stats.CI_PERCENTILES:
        row[f"{name}_ci_low"] = summary[f"{name}_ci_low"]
        row[f"{name}_ci_high"] = summary[f"{name}_ci_high"]
    gaps = measured.clock_gaps[measured.clock_gaps >= 0]
    row.update(
        status="ok",
        runs=len(measured.runs),
        handoffs=values.size,
        clock_ns=float(np.median(gaps)) if gaps.size else math.nan,
        clock_pairs=gaps.size,
        wall_s=round(time.monotonic() - start, 2),
        **_runtime(measured, case),
    )
    hist = stats.histogram(values)
    hist.insert(0, "case", case_id)
    return row, hist.to_dict("records")


def measure(
    artifacts: Artifacts,
    runs: int,
    handoffs: int,
    progress: Callable[[str], None] = lambda s: None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every latency case, `runs` runs of `handoffs` hand-offs each → (latency.csv rows,
    latency_hist.csv rows)."""
    rows, bins = [], []
    for case_id in CASES:
        progress(f"latency: {case_id}")
        row, hist = _case_rows(case_id, artifacts, runs, handoffs)
        rows.append(row)
        bins += hist
    return (
        pd.DataFrame(rows, columns=LATENCY_COLUMNS),
        pd.DataFrame(bins, columns=LATENCY_HIST_COLUMNS),
    )


def _worker(argv: list[str]) -> int:
    """`python -m bench.measure.latency LIBRARY PRIMITIVE PROCESSES CPU_A CPU_B HANDOFFS
    RUNS`: the C runs of one case, printed as one JSON line."""
    from bench.native.bridge import _c_library

    library, primitive, processes, cpu_a, cpu_b, handoffs, runs = argv
    n = int(handoffs)
    ffi, lib = _c_library(Path(library))
    buffer = ffi.new("int64_t[]", n)  # allocated once, before any hand-off
    out = ffi.new("struct sb_latency *")
    result: dict = {"runs": [], "clock_gap_ns": [], "error": ""}
    for _ in range(int(runs)):
        err = lib.sb_latency_pingpong(
            primitive.encode(), n, int(processes), int(cpu_a), int(cpu_b), buffer, out
        )
        if err or out.order_errors:
            message = ffi.string(out.message).decode(errors="replace")
            result["error"] = message or f"{out.order_errors} hand-offs arrived out of turn"
            break
        result["runs"].append(np.frombuffer(ffi.buffer(buffer), dtype=np.int64).tolist())
    gaps = ffi.new("int64_t[]", CLOCK_PAIRS)
    lib.sb_clock_gaps(CLOCK_PAIRS, gaps)
    result["clock_gap_ns"] = np.frombuffer(ffi.buffer(gaps), dtype=np.int64).tolist()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
