"""A run and its built artifacts → the steps beside the cases.

Overhead, agreement, memory and leaks, each into its own file of the result folder.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import Progress

from bench.analysis.timesplit import with_derived
from bench.errors import UsageError
from bench.measure import agree, leaks, memory, overhead, timesplit
from bench.measure import latency as latency_step
from bench.native.build import Artifacts
from bench.render.fmt import plural
from bench.results.schema import (
    AGREEMENT_CSV,
    GROWTH_CSV,
    LATENCY_CSV,
    LATENCY_HIST_CSV,
    LEAKS_CSV,
    MEMORY_CSV,
    OVERHEAD_CSV,
    STACKS_CSV,
    TIMESPLIT_COLUMNS,
    TIMESPLIT_CSV,
)
from bench.results.write import write_csv

if TYPE_CHECKING:  # session imports this module
    from bench.measure.session import RunState


def measure_steps(
    run: RunState,
    artifacts: Artifacts,
    console: Console,
    progress: Progress,
    task: object,
    twins: overhead.Twins | None,
) -> None:
    """The steps after the cases, each one not already in the folder."""
    if run.overhead and not (run.out / OVERHEAD_CSV).is_file():
        progress.update(task, description="overhead")
        console.print(
            "  overhead: the timer, and the minimal harness-free loops not already "
            "measured between their cases' batches "
            f"({plural(run.profile.overhead_repeats, 'loop')} each)"
        )
        overhead.measure(artifacts, run.out, run.profile.overhead_repeats, twins=twins)
    if run.agreement and not (run.out / AGREEMENT_CSV).is_file():
        progress.update(task, description="agreement")
        _measure_agreement(run, artifacts, console)
    if run.latency and not (run.out / LATENCY_CSV).is_file():
        progress.update(task, description="latency")
        _measure_latency(run, artifacts, console)
    if run.memory and not (run.out / MEMORY_CSV).is_file():
        progress.update(task, description="memory")
        _measure_memory(run, artifacts, console)
    if run.leaks and not (run.out / LEAKS_CSV).is_file():
        progress.update(task, description="leaks")
        if run.selected:  # a run of the leaks alone said so in its first line
            console.print(
                f"  leaks: {plural(len(leaks.SCENARIOS), 'scenario')}, leaking and "
                f"fixed, K={run.profile.leak_k}"
            )
        leaks.measure(artifacts, run.out, run.profile.leak_k)
    if run.timesplit and not (run.out / TIMESPLIT_CSV).is_file():
        progress.update(task, description="timesplit")
        _measure_timesplit(run, artifacts, console)


def _measure_timesplit(run: RunState, artifacts: Artifacts, console: Console) -> None:
    """Where the time goes: one accounted run per case into timesplit.csv, with the
    per-switch parts and their checks derived beside what was measured."""
    plan = run.profile.timesplit or "headline"
    region_s = run.profile.timesplit_region_s
    chosen = timesplit.cases_for(plan)
    console.print(
        f"  timesplit: where the time goes, {plural(len(chosen), 'case')} ({plan}), "
        f"one accounted run of about {region_s:g} s each"
    )
    t0 = time.monotonic()
    measured = timesplit.measure(artifacts, plan, region_s)
    frame = with_derived(measured).reindex(columns=TIMESPLIT_COLUMNS)
    write_csv(frame, run.out / TIMESPLIT_CSV)
    console.print(f"  timesplit: took {time.monotonic() - t0:.1f} s")


def memory_budget() -> int:
    """Bytes the memory measurements may use: a quarter of available memory, or
    SWITCHBENCH_MEMORY_BUDGET_MB."""
    override = os.environ.get("SWITCHBENCH_MEMORY_BUDGET_MB")
    if override:
        try:
            mb = int(override)
        except ValueError:
            mb = 0
        if mb <= 0:
            raise UsageError(
                f"SWITCHBENCH_MEMORY_BUDGET_MB={override!r} is not a positive "
                "number of MiB; unset it or give one, e.g. 2048"
            )
        return mb << 20
    return memory.available_bytes() // 4


def _measure_agreement(run: RunState, artifacts: Artifacts, console: Console) -> None:
    """The pipe cases against perf bench sched pipe, interleaved, into agreement.csv;
    where the tool is missing or a run fails, the reason goes into run.json instead and
    the run goes on."""
    rounds, round_trips = run.profile.agreement_rounds, run.profile.agreement_round_trips
    missing = agree.tool_unavailable()
    if missing:
        run.agreement_unavailable = missing
        console.print(f"  agreement: skipped: {missing}")
        return
    console.print(
        f"  agreement: the pipe cases against {agree.TOOL}, {plural(rounds, 'round')} of "
        f"{round_trips:,} round trips, interleaved"
    )
    try:
        rows = agree.measure(artifacts, rounds, round_trips)
    except agree.AgreementError as e:
        run.agreement_unavailable = f"failed: {e}"
        console.print(f"  agreement: {run.agreement_unavailable}")
        return
    run.agreement_unavailable = ""
    write_csv(rows, run.out / AGREEMENT_CSV)


def _measure_memory(run: RunState, artifacts: Artifacts, console: Console) -> None:
    budget = memory_budget()
    console.print(f"  memory: goroutines and threads, within a budget of {budget >> 20} MiB")
    rows, stacks = memory.measure(run.profile.memory, artifacts, budget)
    growth = memory.measure_growth(run.profile.memory, artifacts, budget)
    for frame, name in (
        (stacks, STACKS_CSV),
        (growth, GROWTH_CSV),
        (rows, MEMORY_CSV),
    ):
        write_csv(frame, run.out / name)


def _measure_latency(run: RunState, artifacts: Artifacts, console: Console) -> None:
    """The tail: single hand-offs timed one by one, into latency.csv and latency_hist.csv
    (the histogram first, so that a folder with latency.csv has both)."""
    runs, handoffs = run.profile.latency_runs, run.profile.latency_handoffs
    console.print(
        f"  latency: {plural(len(latency_step.CASES), 'case')}, {plural(runs, 'run')} of "
        f"{handoffs:,} hand-offs each, every hand-off timed"
    )
    rows, hist = latency_step.measure(artifacts, runs, handoffs)
    write_csv(hist, run.out / LATENCY_HIST_CSV)
    write_csv(rows, run.out / LATENCY_CSV)
    console.print(f"  latency: took {rows['wall_s'].sum():.1f} s")
