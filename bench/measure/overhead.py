"""The minimal harness-free loops and the timer → overhead.csv rows.

Harness overhead made visible: the suite's figures beside the same loops with
no harness, and what the clock itself costs.

Two cases are written again as minimal programs, "just the loop and a clock":
go/cmd/minimal (go.chan.p1: two goroutines over unbuffered channels,
GOMAXPROCS=1, timed with time.Now/time.Since) and c/minimal.c
(c.condvar.same-core: two threads pinned to one CPU, a mutex and a condition
variable per side, timed with clock_gettime). No pyperf, no cffi, no driver
protocol, no counters, no order check. Each runs as a subprocess: N round
trips per timed loop, N doubled from a small start until one loop takes 20 ms
and then scaled to about 50 ms. In a run, the loop is measured between the
batches of its suite case (Twins: one process of a few loops after each batch),
so both are timed in the same minutes: a shared VM's speed moves from one
minute to the next, and a loop timed at the end of the run would compare the
machine's moods, not the harness. Where that could not be (the suite case was
not in the run, or a resumed run had measured it before), `repeats` loops in
one process after the cases. The median and its bootstrap CI (by process) are
set beside the run's summary.csv, as suite / minimal, when the report is built
(bench.analysis.overhead). The same programs time
one clock read (clock_gettime and time.Now) and find the clock's resolution.

Writes overhead.csv into the result folder; section_lines() renders it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.analysis.stats import median_ci
from bench.catalogue.cases import GOROUTINE_CASE, THREAD_CASE, get_case
from bench.catalogue.placement import pin_cpus, usable_cpus
from bench.measure.programs import NotMeasured, json_lines
from bench.native.bridge import case_skip_reason
from bench.native.build import Artifacts
from bench.results.schema import OVERHEAD_COLUMNS, OVERHEAD_CSV
from bench.results.write import write_csv

DEFAULT_REPEATS = 20
TARGET_LOOP_MS = 50.0  # one timed loop, after calibration
CALIBRATED_MS = 20.0  # calibration doubles N until one loop takes this long
START_ROUND_TRIPS = 1000
MAX_ROUND_TRIPS = 1 << 31
CALL_TIMEOUT_S = 30.0  # one calibration run, or a timer measurement
TWIN_LOOPS_PER_BATCH = 5  # timed loops of the one minimal process after each suite batch
# How a loop was measured (overhead.csv's `measured`).
MEASURED_BETWEEN = "between the suite case's batches"
MEASURED_AFTER = "after the cases"


KIND_LOOP = "loop"
KIND_COST = "timer cost"
KIND_RESOLUTION = "timer resolution"


@dataclass(frozen=True)
class Loop:
    case: str
    lang: str  # which program: "go" or "c"
    suite_case: str
    what: str


LOOPS = (
    Loop(
        f"minimal.{GOROUTINE_CASE}",
        "go",
        GOROUTINE_CASE,
        "two goroutines ping-pong over unbuffered channels, GOMAXPROCS=1 "
        "(go/cmd/minimal, timed with time.Now and time.Since)",
    ),
    Loop(
        f"minimal.{THREAD_CASE}",
        "c",
        THREAD_CASE,
        "two threads pinned to one CPU hand a turn over with a mutex and a condition "
        "variable per side (c/minimal.c, timed with clock_gettime(CLOCK_MONOTONIC))",
    ),
)


_Failed = NotMeasured  # a measurement that could not be made: its row says why


def _row(case: str, kind: str, what: str, suite_case: str = "") -> dict:
    row = dict.fromkeys(OVERHEAD_COLUMNS, math.nan)
    row.update(case=case, kind=kind, what=what, suite_case=suite_case, status="failed", reason="")
    return row


def _program(artifacts: Artifacts, lang: str) -> Path:
    path = artifacts.go_minimal if lang == "go" else artifacts.c_minimal
    source = "go/cmd/minimal" if lang == "go" else "c/minimal.c"
    if path is None:
        raise _Failed(f"no build of {source} is configured", "skipped")
    if not path.is_file():
        raise _Failed(
            f"{source} has not been built (bench.native.build.build with {lang!r})", "skipped"
        )
    return path


def _run(argv: list[str], timeout: float) -> list[dict]:
    """The program's JSON lines. Exit status 3 is c/minimal.c's "pinning refused": the
    machine's doing, so the loop is skipped rather than failed."""
    return json_lines(argv, timeout, skipped_exit=3)


def _loop_argv(program: Path, loop: Loop, n: int, repeats: int, cpu: int) -> list[str]:
    if loop.lang == "go":
        return [str(program), "-n", str(n), "-repeat", str(repeats), "-gomaxprocs", "1"]
    return [str(program), str(n), str(repeats), str(cpu)]


def _elapsed(lines: list[dict], n: int, repeats: int) -> np.ndarray:
    """elapsed_ns of every timed loop, checked."""
    if len(lines) != repeats:
        raise _Failed(f"expected {repeats} timed loops, got {len(lines)}")
    try:
        elapsed = np.array([float(x["elapsed_ns"]) for x in lines])
        trips = [int(x["round_trips"]) for x in lines]
    except (KeyError, TypeError, ValueError) as e:
        raise _Failed(f"a timed loop's line lacks {e}") from None
    if any(t != n for t in trips):
        raise _Failed(f"asked for {n} round trips a loop, the program ran {trips[0]}")
    if not np.all(np.isfinite(elapsed) & (elapsed > 0)):
        raise _Failed("a timed loop took no time: the clock did not move")
    return elapsed


def _calibrate(
    program: Path, loop: Loop, cpu: int, target_ms: float, progress: Callable[[str], None]
) -> int:
    """Round trips for one timed loop of about target_ms: from a small N, doubled
    until a loop takes min(CALIBRATED_MS, target_ms), then scaled."""
    floor_ns = min(CALIBRATED_MS, target_ms) * 1e6
    n = START_ROUND_TRIPS
    while True:
        progress(f"overhead: {loop.case}, calibrating ({n:,} round trips)")
        (elapsed,) = _elapsed(_run(_loop_argv(program, loop, n, 1, cpu), CALL_TIMEOUT_S), n, 1)
        if elapsed >= floor_ns:
            return max(1, round(n * target_ms * 1e6 / elapsed))
        if n >= MAX_ROUND_TRIPS:
            raise _Failed(f"{n:,} round trips took only {elapsed:,.0f} ns")
        n *= 2


def _prepare(artifacts: Artifacts, loop: Loop) -> tuple[Path, int, str]:
    """(program, CPU, description) for a loop; _Failed if it cannot run here."""
    program = _program(artifacts, loop.lang)
    if loop.lang != "c":
        return program, -1, loop.what
    cpus = usable_cpus()
    why = case_skip_reason(get_case(loop.suite_case), cpus)
    if why:
        raise _Failed(why, "skipped")
    cpu, _ = pin_cpus("same-core", cpus)
    return program, cpu, f"{loop.what}; CPU {cpu}"


def _loop_row(loop: Loop, what: str, n: int, per_process: list[np.ndarray], measured: str) -> dict:
    """A loop's row from its ns per switch, one array per process."""
    row = _row(loop.case, KIND_LOOP, what, loop.suite_case)
    values = np.concatenate(per_process)
    processes = np.repeat(np.arange(len(per_process)), [len(v) for v in per_process])
    median, low, high = median_ci(values, processes)
    row.update(
        minimal_ns=median,
        ci_low=low,
        ci_high=high,
        round_trips=n,
        samples=len(values),
        processes=len(per_process),
        measured=measured,
        status="ok",
    )
    return row


def _measure_loop(
    artifacts: Artifacts,
    loop: Loop,
    repeats: int,
    target_ms: float,
    progress: Callable[[str], None],
) -> dict:
    """A loop measured on its own: `repeats` timed loops in one process."""
    what = loop.what
    try:
        program, cpu, what = _prepare(artifacts, loop)
        n = _calibrate(program, loop, cpu, target_ms, progress)
        progress(f"overhead: {loop.case}, {repeats} loops of {n:,} round trips")
        timeout = CALL_TIMEOUT_S + 10 * repeats * target_ms / 1000
        elapsed = _elapsed(_run(_loop_argv(program, loop, n, repeats, cpu), timeout), n, repeats)
    except _Failed as e:
        row = _row(loop.case, KIND_LOOP, what, loop.suite_case)
        row.update(status=e.status, reason=str(e), measured=MEASURED_AFTER)
        return row
    return _loop_row(loop, what, n, [elapsed / (2 * n)], MEASURED_AFTER)


class Twins:
    """The minimal loops, measured between the batches of their suite cases.

    bench.measure.run_case calls after_batch(case id) after each batch of worker
    processes; for a case with a minimal twin (LOOPS) that runs one process of
    `loops_per_batch` timed loops (calibrated on the first call). measure() then
    takes these instead of measuring the loop after the cases. A failure is kept
    and reported as the loop's row; it does not stop the case."""

    def __init__(
        self,
        artifacts: Artifacts,
        loops_per_batch: int = TWIN_LOOPS_PER_BATCH,
        target_ms: float = TARGET_LOOP_MS,
        progress: Callable[[str], None] = lambda s: None,
    ) -> None:
        self.artifacts = artifacts
        self.loops_per_batch = loops_per_batch
        self.target_ms = target_ms
        self.progress = progress
        self._setup: dict[str, tuple[Path, int, str, int]] = {}  # program, cpu, what, n
        self._per_process: dict[str, list[np.ndarray]] = {}
        self._failed: dict[str, dict] = {}

    def after_batch(self, suite_case: str) -> None:
        loop = next((x for x in LOOPS if x.suite_case == suite_case), None)
        if loop is None or loop.case in self._failed:
            return
        what = loop.what
        try:
            if loop.case not in self._setup:
                program, cpu, what = _prepare(self.artifacts, loop)
                n = _calibrate(program, loop, cpu, self.target_ms, self.progress)
                self._setup[loop.case] = (program, cpu, what, n)
            program, cpu, what, n = self._setup[loop.case]
            k = self.loops_per_batch
            timeout = CALL_TIMEOUT_S + 10 * k * self.target_ms / 1000
            elapsed = _elapsed(_run(_loop_argv(program, loop, n, k, cpu), timeout), n, k)
        except _Failed as e:
            row = _row(loop.case, KIND_LOOP, what, loop.suite_case)
            row.update(status=e.status, reason=str(e), measured=MEASURED_BETWEEN)
            self._failed[loop.case] = row
            return
        self._per_process.setdefault(loop.case, []).append(elapsed / (2 * n))

    def row(self, loop: Loop) -> dict | None:
        """The loop's row from what was measured between batches; None if nothing was."""
        if loop.case in self._failed:
            return self._failed[loop.case]
        if loop.case not in self._per_process:
            return None
        _, _, what, n = self._setup[loop.case]
        return _loop_row(loop, what, n, self._per_process[loop.case], MEASURED_BETWEEN)


def _timer_rows(artifacts: Artifacts, lang: str, progress: Callable[[str], None]) -> list[dict]:
    """One clock read's cost, and the clock's resolution, from one program."""
    if lang == "c":
        clock, flag, suite_case = "clock_gettime(CLOCK_MONOTONIC)", "--timer", "c.clock.monotonic"
        prefix = "timer.c.clock_gettime"
    else:
        clock, flag, suite_case = "time.Now()", "-timer", ""
        prefix = "timer.go.time_now"
    cost = _row(prefix, KIND_COST, f"one {clock} call", suite_case)
    step = _row(
        f"{prefix}.step",
        KIND_RESOLUTION,
        f"the smallest non-zero step between two successive {clock} reads",
    )
    rows = [cost, step]
    getres = None
    if lang == "c":
        getres = _row("timer.c.clock_getres", KIND_RESOLUTION, "clock_getres(CLOCK_MONOTONIC)")
        rows.insert(1, getres)
    progress(f"overhead: {prefix}")
    try:
        r = _run([str(_program(artifacts, lang)), flag], CALL_TIMEOUT_S)[-1]
        calls = np.array([float(x) for x in r["call_ns"]])
        reads, min_step = int(r["reads"]), float(r["min_step_ns"])
        resolution = float(r["getres_ns"]) if getres is not None else math.nan
    except _Failed as e:
        for row in rows:
            row.update(status=e.status, reason=str(e))
        return rows
    except (KeyError, TypeError, ValueError) as e:
        for row in rows:
            row.update(reason=f"the timer result lacks {e}")
        return rows
    if calls.size and np.all(np.isfinite(calls) & (calls > 0)):
        median, low, high = median_ci(calls)
        cost.update(minimal_ns=median, ci_low=low, ci_high=high, samples=calls.size, status="ok")
    else:
        cost["reason"] = "a batch of clock reads took no time"
    if min_step > 0:
        step.update(minimal_ns=min_step, samples=reads, status="ok")
    else:
        step["reason"] = f"the clock never moved in {reads:,} successive reads"
    if getres is not None:
        if resolution > 0:
            getres.update(minimal_ns=resolution, samples=1, status="ok")
        else:
            getres["reason"] = f"clock_getres said {resolution:g} ns"
    return rows


def measure(
    artifacts: Artifacts,
    out_dir: Path,
    repeats: int = DEFAULT_REPEATS,
    progress: Callable[[str], None] = lambda s: None,
    target_ms: float = TARGET_LOOP_MS,
    twins: Twins | None = None,
) -> pd.DataFrame:
    """The minimal loops and the timer; writes out_dir/overhead.csv, once. The suite's
    figures beside them come from summary.csv when the report is built
    (bench.analysis.overhead). A loop that twins measured
    between its suite case's batches is taken from there; the others are measured
    now. A measurement that fails is a row with its status and reason."""
    if repeats < 1:
        raise ValueError(f"repeats must be positive, not {repeats}")
    rows = []
    for loop in LOOPS:
        row = twins.row(loop) if twins else None
        rows.append(row or _measure_loop(artifacts, loop, repeats, target_ms, progress))
    rows += _timer_rows(artifacts, "c", progress)
    rows += _timer_rows(artifacts, "go", progress)
    frame = pd.DataFrame(rows, columns=OVERHEAD_COLUMNS)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(frame, out_dir / OVERHEAD_CSV)
    return frame
