"""The run command's options → a result folder measured case by case, then its steps.

RunState is the folder being filled (run.json says what was asked for and what is
done); new_run and resumed_run start one, measure goes over the cases (in passes, with
--repeat) and then the steps (overhead, agreement, memory, leaks), and write_results
turns the finished cases into suite.json, samples.csv and summary.csv.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench.analysis import comparison, tidy
from bench.analysis import summary as analyse
from bench.catalogue import cases
from bench.catalogue.profiles import PROFILES, Profile
from bench.errors import UsageError
from bench.measure import agree, host, leaks, overhead, runner, system
from bench.measure.steps import measure_steps, memory_budget
from bench.native import toolchains
from bench.native.bridge import measure_clock_ghz, probe_counters
from bench.native.build import Artifacts, build
from bench.render.fmt import plural
from bench.results import read
from bench.results.schema import (
    HOST_JSON,
    OVERHEAD_CSV,
    RUN_JSON,
    SAMPLES_CSV,
    SUITE_JSON,
    SUMMARY_CSV,
)
from bench.results.write import create_out, default_out, write_csv, write_json


@dataclasses.dataclass
class RunState:
    """A result folder being filled: what was asked for and what is done."""

    out: Path
    profile: Profile
    selected: list[cases.Case]
    outcomes: list[runner.CaseOutcome]
    started_utc: str
    wall_s: float = 0.0  # wall time of earlier sessions of this run (before --resume)
    status: str = "running"
    repeat: int = 1  # passes over the cases, each in a new shuffled order
    memory: bool = True  # whether the run measures goroutine and thread memory
    leaks: bool = True  # whether the run measures the goroutine-leak scenarios
    overhead: bool = True  # whether the run measures the minimal loops and the timer
    agreement: bool = True  # whether the run checks its pipe cases against perf bench
    timesplit: bool = False  # whether the run splits the time of one switch (timesplit.csv)
    # Why the agreement step measured nothing (the tool missing, a run failing), or "".
    agreement_unavailable: str = ""
    latency: bool = True  # whether the run times single hand-offs (the tail)

    def write_run_json(self, session_s: float) -> None:
        write_json(
            self.out / RUN_JSON,
            {
                "status": self.status,
                "profile": self.profile.name,
                "profile_settings": dataclasses.asdict(self.profile),
                "selected": [c.id for c in self.selected],
                "repeat": self.repeat,
                "memory": self.memory,
                "leaks": self.leaks,
                "overhead": self.overhead,
                "agreement": self.agreement,
                "agreement_unavailable": self.agreement_unavailable,
                "latency": self.latency,
                "timesplit": self.timesplit,
                "started_utc": self.started_utc,
                "wall_s": round(self.wall_s + session_s, 1),
                "argv": sys.argv,
                "cases": {
                    o.case.id: {
                        "status": o.status,
                        "reason": o.reason,
                        "wall_s": round(o.wall_s, 2),
                        "start_s": o.start_s,
                        "end_s": o.end_s,
                        "stop": o.stop,
                        "ci_half_width": None
                        if math.isnan(o.ci_half_width)
                        else round(o.ci_half_width, 5),
                        "batches": o.batches,
                        "passes": o.passes,
                    }
                    for o in self.outcomes
                },
            },
        )


# Words of --only that name a step of the run, not cases (RunState has a flag of each).
STEPS = ("memory", "leaks", "overhead", "agreement", "latency", "timesplit")
# What each step runs, and so needs built.
STEP_BUILDS: dict[str, set[str]] = {
    "memory": {"c", "go"},
    "leaks": {"go"},
    "overhead": {"c", "go"},
    "agreement": {"c"},
    "latency": {"c", "go"},  # the tail of C and Go cases, whatever else was picked
    "timesplit": {"c", "go"},  # likewise
}


def new_run(args: argparse.Namespace) -> tuple[RunState, Artifacts]:
    profile = PROFILES[args.profile]
    # The words of STEPS in --only name those steps, not cases; without --only every
    # step runs but the time split, which the profile decides.
    words = [p.strip() for p in (args.only or "").split(",")]
    steps = {step: not args.only or step in words for step in STEPS}
    steps["timesplit"] = ("timesplit" in words) if args.only else profile.timesplit is not None
    patterns = ",".join(p for p in words if p not in STEPS)
    selected = cases.select(patterns) if patterns or not args.only else []
    if not args.only:
        selected = [c for c in selected if profile.includes(c)]
    if steps["memory"]:
        memory_budget()  # fail early on a bad SWITCHBENCH_MEMORY_BUDGET_MB
    if args.compare:
        comparison.load_runs([Path(args.compare)])  # a bad reference fails now, not after the run
    artifacts = _artifacts(selected, steps)
    out = Path(args.out) if args.out else default_out()
    create_out(out)
    (out / "raw").mkdir()
    machine = host.probe()
    machine["counters"] = (
        probe_counters(artifacts.c_library)
        if artifacts.c_library.is_file()
        else {"not probed": "the C library was not built for this run"}
    )
    if artifacts.c_library.is_file():
        machine["clock"] = measure_clock_ghz(artifacts.c_library)
    write_json(out / HOST_JSON, machine)
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    run = RunState(
        out,
        profile,
        selected,
        [],
        started,
        repeat=args.repeat,
        **steps,
    )
    return run, artifacts


def resumed_run(args: argparse.Namespace) -> tuple[RunState, Artifacts]:
    out = Path(args.resume)
    if args.only or args.out or args.repeat != 1:
        raise UsageError(
            "--resume takes the cases, folder and passes of the run it resumes; "
            "drop --only, --out and --repeat"
        )
    try:
        # A regular file, within limits, of the right types ({} where there is none).
        state = read.load_run(out) or {"missing": True}
        profile = PROFILES[state["profile"]]
        selected = [cases.get_case(case_id) for case_id in state["selected"]]
        done = state["cases"]
    except (KeyError, TypeError) as e:
        raise UsageError(
            f"{out / 'run.json'} cannot be resumed (no {e}); "
            "give a folder written by `switchbench run`"
        ) from None
    outcomes = []
    for case in selected:
        record = done.get(case.id)
        raw = out / "raw" / f"{case.id}.json"
        if not record or (record.get("status") == "ok" and not raw.is_file()):
            continue  # not finished: measured again
        outcomes.append(
            runner.CaseOutcome(
                case,
                record["status"],
                record.get("reason", ""),
                raw if record["status"] == "ok" else None,
                record.get("wall_s", 0.0),
                record.get("start_s", 0.0),
                record.get("end_s", 0.0),
                str(record.get("stop", "")),
                math.nan if record.get("ci_half_width") is None else float(record["ci_half_width"]),
                int(record.get("batches", 0)),
                int(record.get("passes", 1)),
            )
        )
    steps = {step: bool(state.get(step, False)) for step in STEPS}
    artifacts = _artifacts(selected, steps)
    # A folder of `run --go`: its own toolchain's programs (bench.native.toolchains).
    artifacts = toolchains.resumed_artifacts(out, artifacts)
    run = RunState(
        out,
        profile,
        selected,
        outcomes,
        state.get("started_utc", ""),
        float(state.get("wall_s", 0.0)),
        repeat=int(state.get("repeat", 1)),
        agreement_unavailable=str(state.get("agreement_unavailable", "")),
        **steps,
    )
    return run, artifacts


def _artifacts(selected: list[cases.Case], steps: dict[str, bool]) -> Artifacts:
    """What a run of these cases and steps (STEPS: whether each runs) needs built."""
    langs = {c.lang for c in selected}
    for step, needs in STEP_BUILDS.items():
        if steps.get(step):
            langs |= needs
    return build(langs)


def measure_case(
    run: RunState,
    case: cases.Case,
    artifacts: Artifacts,
    sampler: system.SystemSampler,
    twins: overhead.Twins | None,
) -> runner.CaseOutcome:
    """One case (or one more pass of it) measured, and its outcome recorded in run;
    twins measures the case's minimal loop between its batches, if it has one."""
    earlier = next((o for o in run.outcomes if o.case.id == case.id), None)
    start_s = sampler.now()
    outcome = runner.run_case(
        case,
        run.profile,
        artifacts,
        run.out / "raw",
        lambda pid: sampler.measuring(case.id, pid),
        adaptive=run.repeat == 1,
        after_batch=(lambda: twins.after_batch(case.id)) if twins else (lambda: None),
    )
    sampler.idle()
    outcome = dataclasses.replace(outcome, start_s=start_s, end_s=sampler.now())
    if outcome.status == "ok":
        passes = (earlier.passes if earlier else 0) + 1
        outcome = dataclasses.replace(outcome, passes=passes)
        if run.repeat > 1:
            half, _ = runner.precision(outcome.raw_json)
            outcome = dataclasses.replace(
                outcome,
                stop=f"{passes} of {run.repeat} interleaved passes",
                ci_half_width=half,
                wall_s=outcome.wall_s + (earlier.wall_s if earlier else 0.0),
                start_s=earlier.start_s if earlier else outcome.start_s,
            )
    if earlier:
        run.outcomes.remove(earlier)
    run.outcomes.append(outcome)
    return outcome


def steps_text(run: RunState) -> str:
    """What a run of no cases measures: its steps, in words."""
    steps = []
    if run.memory:
        steps.append("goroutine and thread memory")
    if run.leaks:
        steps.append(
            f"the goroutine-leak scenarios: {plural(len(leaks.SCENARIOS), 'scenario')} "
            f"× leaking and fixed, K={run.profile.leak_k}"
        )
    if run.overhead:
        steps.append("the timer and the minimal harness-free loops")
    if run.agreement:
        steps.append(f"the pipe cases against {agree.TOOL}")
    if run.latency:
        steps.append("the latency of single hand-offs (the tail)")
    if run.timesplit:
        steps.append("where the time of one switch goes")
    return "; ".join(steps) or "nothing"


def passes_done(run: RunState) -> dict[str, int]:
    """Passes each finished case has had (a case that did not measure counts as done)."""
    return {o.case.id: o.passes if o.status == "ok" else run.repeat for o in run.outcomes}


def todo(run: RunState) -> list[cases.Case]:
    """The cases with passes left."""
    done = passes_done(run)
    return [c for c in run.selected if done.get(c.id, 0) < run.repeat]


def measure(
    run: RunState, artifacts: Artifacts, console: Console, resumed: bool, t0: float
) -> None:
    """Every case with passes left, then each step not yet done, into run.out; run.json
    is rewritten after each case. A KeyboardInterrupt leaves the finished ones."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    sampler = system.SystemSampler(run.out, resume=resumed)
    # The minimal loops, measured between the batches of their suite cases.
    twins = (
        overhead.Twins(artifacts)
        if run.overhead and not (run.out / OVERHEAD_CSV).is_file()
        else None
    )
    done, left = passes_done(run), todo(run)
    with sampler, Progress(*columns, console=console, transient=True) as progress:
        total = sum(run.repeat - done.get(c.id, 0) for c in left)
        task = progress.add_task("starting", total=total)
        _measure_cases(run, artifacts, console, progress, task, sampler, twins, t0)
        measure_steps(run, artifacts, console, progress, task, twins)


def _measure_cases(
    run: RunState,
    artifacts: Artifacts,
    console: Console,
    progress: Progress,
    task: object,
    sampler: system.SystemSampler,
    twins: overhead.Twins | None,
    t0: float,
) -> None:
    """The cases' passes: with --repeat each pass in a new shuffled order."""
    done, left = passes_done(run), todo(run)
    width = max((len(c.id) for c in run.selected), default=0)
    for pass_no in range(1, run.repeat + 1):
        order = [c for c in left if done.get(c.id, 0) < pass_no]
        if run.repeat > 1:
            # A new order each pass, so a machine's drift spreads over every case.
            random.Random(f"{run.started_utc}/{pass_no}").shuffle(order)
            if order:
                console.print(f"  pass {pass_no} of {run.repeat}")
        for i, case in enumerate(order, 1):
            progress.update(task, description=f"[{i}/{len(order)}] {case.id}")
            outcome = measure_case(run, case, artifacts, sampler, twins)
            done[case.id] = outcome.passes if outcome.status == "ok" else run.repeat
            progress.advance(task)
            # Each finished case is on disk before the next starts.
            run.write_run_json(time.monotonic() - t0)
            if outcome.status != "ok":
                note = outcome.reason
            else:
                note = f"{outcome.wall_s:.1f} s, CI ±{outcome.ci_half_width:.1%}, "
                note += outcome.stop
            console.print(f"  {case.id:{width}}  {outcome.status:8} {note}")


def write_results(run: RunState) -> None:
    """suite.json, samples.csv and summary.csv from every finished case."""
    order = {c.id: i for i, c in enumerate(run.selected)}
    run.outcomes.sort(key=lambda o: order[o.case.id])
    suite_json = run.out / SUITE_JSON
    runner.write_suite(run.outcomes, suite_json)
    if suite_json.is_file():
        samples = tidy.write_samples(suite_json, run.out / SAMPLES_CSV)
    else:  # no case measured (a run of the leaks or memory alone): the header alone
        samples = tidy.empty_samples()
        write_csv(samples, run.out / SAMPLES_CSV)
    finished = {o.case.id for o in run.outcomes}
    not_measured = {o.case.id: (o.status, o.reason) for o in run.outcomes if o.status != "ok"}
    not_measured.update(
        {
            c.id: ("not run", "the run was interrupted first; finish it with --resume")
            for c in run.selected
            if c.id not in finished
        }
    )
    stops = {o.case.id: o.stop for o in run.outcomes if o.status == "ok"}
    summary = analyse.summarise(samples, run.selected, not_measured, stops)
    analyse.write_summary(summary, run.out / SUMMARY_CSV)
