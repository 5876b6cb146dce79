"""The `switchbench` command: list, build, run, report."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import random
import shlex
import signal
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench.analysis import summary as analyse
from bench.analysis import tidy
from bench.catalogue import cases
from bench.catalogue.profiles import PROFILES, Profile
from bench.errors import UsageError
from bench.measure import agree, host, leaks, memory, overhead, runner, selfbench, system
from bench.native.bridge import HARDWARE_COUNTERS, measure_clock_ghz, probe_counters
from bench.native.build import Artifacts, build, source_root
from bench.render import compare, report
from bench.render.fmt import visible
from bench.results import read, schema
from bench.results.schema import (
    HOST_JSON,
    LEAKS_CSV,
    MEMORY_CSV,
    RUN_JSON,
    SAMPLES_CSV,
    SUITE_JSON,
    SUMMARY_CSV,
)
from bench.results.write import write_csv, write_json


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, exit status 2, like every other input error of the suite.
        self.exit(2, f"switchbench: error: {message} (see `{self.prog} --help`)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 to 100")
    return value


def _plural(n: int, word: str, plural: str = "") -> str:
    """`1 case`, `2 cases`."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _as_typed(path: str | os.PathLike[str]) -> str:
    """path as one types it here: relative to the working folder where it lies inside
    it, else absolute."""
    full, cwd = os.path.abspath(path), os.getcwd()
    if full == cwd:
        return "."
    return os.path.relpath(full, cwd) if full.startswith(cwd.rstrip("/") + "/") else full


def _program(path: str | os.PathLike[str]) -> str:
    """An executable's path as one types it here (never a bare name, which the shell
    would look up on PATH instead), shell-quoted."""
    typed = _as_typed(path)
    return shlex.quote(typed if "/" in typed else f"./{typed}")


def invoked_as() -> str:
    """The command the user typed to start switchbench, shell-quoted, for hints that
    paste and run as they stand: `.venv/bin/switchbench` (the path as typed, relative
    to the working folder where it lies inside it) or `.venv/bin/python -m bench`."""
    argv0 = sys.argv[0] if sys.argv else ""
    name = Path(argv0).name
    if name == "__main__.py":  # python -m bench
        return f"{_program(sys.executable)} -m {shlex.quote(Path(argv0).parent.name)}"
    if name.endswith(".py"):  # python bench/cli.py
        return f"{_program(sys.executable)} {shlex.quote(_as_typed(argv0))}"
    if name.startswith("switchbench"):
        # The console script: a bare name only where the shell found it on PATH.
        return _program(argv0) if "/" in argv0 else shlex.quote(argv0)
    # Called from elsewhere (a test, an embedding program): the venv's own command.
    return _program(Path(sys.executable).parent / "switchbench")


def _default_out(kind: str = "") -> Path:
    """results/[<kind>-]<host>-<UTC time>"""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    prefix = f"{kind}-" if kind else ""
    return source_root() / "results" / f"{prefix}{name or 'host'}-{stamp}"


def _create_out(out: Path) -> None:
    if out.is_symlink():
        raise UsageError(f"--out {out} is a symbolic link; name a new folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out} already exists and is not an empty folder; name a new one")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UsageError(
            f"cannot write the result folder {out}: {e.strerror or e}; "
            "choose a writable folder with --out"
        ) from None


def _write_json(path: Path, data: object) -> None:
    write_json(path, data)


def cmd_list(args: argparse.Namespace) -> int:
    selected = cases.select(args.only)
    width = max((len(case.id) for case in selected), default=0)
    for case in selected:
        print(f"{case.id:{width}}  {case.description}" if args.verbose else case.id)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    artifacts = build({"c", "go"}, quiet=False)
    for path in (artifacts.c_library, artifacts.c_check, artifacts.go_driver):
        print(path)
    return 0


def cmd_counters(args: argparse.Namespace) -> int:
    artifacts = build({"c"})
    counters = probe_counters(artifacts.c_library)
    for name, state in counters.items():
        print(
            f"{name:18} {'available' if state['available'] else 'unavailable':12} {state['reason']}"
        )
    paranoid = host.probe().get("perf_event_paranoid")
    if not any(counters[name]["available"] for name in HARDWARE_COUNTERS):
        print("no hardware counters here (usual in a VM): the report shows software counters")
    if not counters["context_switches"]["available"]:
        print(
            f"perf_event_open is refused (perf_event_paranoid={paranoid}): OS context "
            "switches come from getrusage instead; run as root or lower "
            "/proc/sys/kernel/perf_event_paranoid to read the perf counters"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    folder = Path(args.run_dir)
    if not folder.is_dir():
        raise UsageError(
            f"{folder} is not a folder; give a result folder made by `switchbench run`"
        )
    try:
        md_path = report.write_report(folder)
    except OSError as e:
        raise UsageError(
            f"cannot write the report into {folder}: {e.strerror or e}; "
            "copy the folder somewhere writable and run `switchbench report` there"
        ) from None
    print(md_path)
    print(md_path.with_name("report.html"))
    return 0


def cmd_leaks(args: argparse.Namespace) -> int:
    """`switchbench leaks`: a run of the goroutine-leak family alone."""
    args.only, args.resume, args.compare, args.repeat = "leaks", None, None, 1
    if not args.out:
        args.out = str(_default_out("leaks"))
    return cmd_run(args)


def cmd_selfbench(args: argparse.Namespace) -> int:
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    unknown = [p for p in profiles if p not in PROFILES]
    if not profiles or unknown:
        raise UsageError(f"--profiles {args.profiles!r}: name profiles from {', '.join(PROFILES)}")
    if args.go_rounds < 0:
        raise UsageError(f"--go-rounds {args.go_rounds}: give 0 or more rounds")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = Path(args.out) if args.out else source_root() / "results" / f"selfbench-{stamp}"
    _create_out(out)
    print(selfbench.selfbench(out, profiles, go_rounds=args.go_rounds))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    folders = [Path(f) for f in args.run_dirs]
    if len(folders) < 2:
        raise UsageError("compare needs at least two result folders: RUN_A RUN_B [RUN_C ...]")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = Path(args.out) if args.out else source_root() / "results" / f"compare-{stamp}"
    try:
        print(compare.write_comparison(folders, out, args.noise_band / 100))
    except OSError as e:
        raise UsageError(
            f"cannot write the comparison into {out}: {e.strerror or e}; choose --out elsewhere"
        ) from None
    return 0


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
    # Why the agreement step measured nothing (the tool missing, a run failing), or "".
    agreement_unavailable: str = ""

    def write_run_json(self, session_s: float) -> None:
        _write_json(
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


# Words of --only that name a step of the run, not cases.
STEPS = ("memory", "leaks", "overhead", "agreement")


def _new_run(args: argparse.Namespace) -> tuple[RunState, Artifacts]:
    profile = PROFILES[args.profile]
    # "memory", "leaks", "overhead" and "agreement" in --only name those steps, not cases.
    words = [p.strip() for p in (args.only or "").split(",")]
    wants_memory = not args.only or "memory" in words
    wants_leaks = not args.only or "leaks" in words
    wants_overhead = not args.only or "overhead" in words
    wants_agreement = not args.only or "agreement" in words
    patterns = ",".join(p for p in words if p not in STEPS)
    selected = cases.select(patterns) if patterns or not args.only else []
    if not args.only:
        selected = [c for c in selected if profile.includes(c)]
    if wants_memory:
        memory_budget()  # fail early on a bad SWITCHBENCH_MEMORY_BUDGET_MB
    if args.compare:
        compare.load_runs([Path(args.compare)])  # a bad reference fails now, not after the run
    artifacts = build(
        {c.lang for c in selected}
        | ({"c", "go"} if wants_memory else set())
        | ({"go"} if wants_leaks else set())
        | ({"c", "go"} if wants_overhead else set())
        | ({"c"} if wants_agreement else set())
    )
    out = Path(args.out) if args.out else _default_out()
    _create_out(out)
    (out / "raw").mkdir()
    machine = host.probe()
    machine["counters"] = (
        probe_counters(artifacts.c_library)
        if artifacts.c_library.is_file()
        else {"not probed": "the C library was not built for this run"}
    )
    if artifacts.c_library.is_file():
        machine["clock"] = measure_clock_ghz(artifacts.c_library)
    _write_json(out / HOST_JSON, machine)
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    run = RunState(
        out,
        profile,
        selected,
        [],
        started,
        repeat=args.repeat,
        memory=wants_memory,
        leaks=wants_leaks,
        overhead=wants_overhead,
        agreement=wants_agreement,
    )
    return run, artifacts


def _resumed_run(args: argparse.Namespace) -> tuple[RunState, Artifacts]:
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
    wants_memory = bool(state.get("memory", False))
    wants_leaks = bool(state.get("leaks", False))
    wants_overhead = bool(state.get("overhead", False))
    wants_agreement = bool(state.get("agreement", False))
    artifacts = build(
        {c.lang for c in selected}
        | ({"c", "go"} if wants_memory else set())
        | ({"go"} if wants_leaks else set())
        | ({"c", "go"} if wants_overhead else set())
        | ({"c"} if wants_agreement else set())
    )
    run = RunState(
        out,
        profile,
        selected,
        outcomes,
        state.get("started_utc", ""),
        float(state.get("wall_s", 0.0)),
        repeat=int(state.get("repeat", 1)),
        memory=wants_memory,
        leaks=wants_leaks,
        overhead=wants_overhead,
        agreement=wants_agreement,
        agreement_unavailable=str(state.get("agreement_unavailable", "")),
    )
    return run, artifacts


def _interrupt_on_sigterm(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def _measure_case(
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


def _steps_text(run: RunState) -> str:
    """What a run of no cases measures: its steps, in words."""
    steps = []
    if run.memory:
        steps.append("goroutine and thread memory")
    if run.leaks:
        steps.append(
            f"the goroutine-leak scenarios: {_plural(len(leaks.SCENARIOS), 'scenario')} "
            f"× leaking and fixed, K={run.profile.leak_k}"
        )
    if run.overhead:
        steps.append("the timer and the minimal harness-free loops")
    if run.agreement:
        steps.append(f"the pipe cases against {agree.TOOL}")
    return "; ".join(steps) or "nothing"


def cmd_run(args: argparse.Namespace) -> int:
    run, artifacts = _resumed_run(args) if args.resume else _new_run(args)
    # soft_wrap: a line is never broken (mid-sentence, or inside a path or a command to
    # paste); the terminal folds what is wider than it. markup=False: ids, reasons and
    # paths are printed as they are.
    console = Console(stderr=True, soft_wrap=True, markup=False)
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    t0 = time.monotonic()
    passes_done = {o.case.id: o.passes if o.status == "ok" else run.repeat for o in run.outcomes}
    todo = [c for c in run.selected if passes_done.get(c.id, 0) < run.repeat]
    verb = "resuming" if args.resume else "measuring"
    interleave = f", {run.repeat} interleaved passes" if run.repeat > 1 else ""
    cases_text = f"{len(todo)} of {_plural(len(run.selected), 'case')}"
    what = cases_text if run.selected else _steps_text(run)
    console.print(
        f"switchbench: {verb} {what}, profile {run.profile.name}{interleave}, "
        f"into {_as_typed(run.out)}"
    )
    width = max((len(c.id) for c in run.selected), default=0)
    run.write_run_json(0)

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    sampler = system.SystemSampler(run.out, resume=bool(args.resume))
    # The minimal loops, measured between the batches of their suite cases.
    twins = (
        overhead.Twins(artifacts)
        if run.overhead and not (run.out / schema.OVERHEAD_CSV).is_file()
        else None
    )
    try:
        with sampler, Progress(*columns, console=console, transient=True) as progress:
            total = sum(run.repeat - passes_done.get(c.id, 0) for c in todo)
            task = progress.add_task("starting", total=total)
            for pass_no in range(1, run.repeat + 1):
                order = [c for c in todo if passes_done.get(c.id, 0) < pass_no]
                if run.repeat > 1:
                    # A new order each pass, so a machine's drift spreads over every case.
                    random.Random(f"{run.started_utc}/{pass_no}").shuffle(order)
                    if order:
                        console.print(f"  pass {pass_no} of {run.repeat}")
                for i, case in enumerate(order, 1):
                    progress.update(task, description=f"[{i}/{len(order)}] {case.id}")
                    outcome = _measure_case(run, case, artifacts, sampler, twins)
                    passes_done[case.id] = outcome.passes if outcome.status == "ok" else run.repeat
                    progress.advance(task)
                    # Each finished case is on disk before the next starts.
                    run.write_run_json(time.monotonic() - t0)
                    if outcome.status != "ok":
                        note = outcome.reason
                    else:
                        note = f"{outcome.wall_s:.1f} s, CI ±{outcome.ci_half_width:.1%}, "
                        note += outcome.stop
                    console.print(f"  {case.id:{width}}  {outcome.status:8} {note}")
            if run.overhead and not (run.out / schema.OVERHEAD_CSV).is_file():
                progress.update(task, description="overhead")
                console.print(
                    "  overhead: the timer, and the minimal harness-free loops not already "
                    "measured between their cases' batches "
                    f"({_plural(run.profile.overhead_repeats, 'loop')} each)"
                )
                overhead.measure(
                    artifacts, run.out, None, run.profile.overhead_repeats, twins=twins
                )
            if run.agreement and not (run.out / schema.AGREEMENT_CSV).is_file():
                progress.update(task, description="agreement")
                _measure_agreement(run, artifacts, console)
            if run.memory and not (run.out / MEMORY_CSV).is_file():
                progress.update(task, description="memory")
                _measure_memory(run, artifacts, console)
            if run.leaks and not (run.out / LEAKS_CSV).is_file():
                progress.update(task, description="leaks")
                if run.selected:  # a run of the leaks alone said so in its first line
                    console.print(
                        f"  leaks: {_plural(len(leaks.SCENARIOS), 'scenario')}, leaking and "
                        f"fixed, K={run.profile.leak_k}"
                    )
                leaks.measure(artifacts, run.out, run.profile.leak_k)
        run.status = "complete"
    except KeyboardInterrupt:
        run.status = "interrupted"
        console.print(
            "switchbench: interrupted; the finished cases are kept. Finish with: "
            f"{invoked_as()} run --resume {shlex.quote(_as_typed(run.out))}"
        )
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    console.print("switchbench: writing the summary and the report…")
    _write_results(run)
    run.write_run_json(time.monotonic() - t0)
    written = report.write_report(run.out)
    console.print(f"  {_as_typed(written)}, {_as_typed(written.with_name('report.html'))}")
    if args.compare and run.status == "complete":
        console.print(f"switchbench: comparing with {_as_typed(args.compare)}…")
        against = run.out / f"vs-{Path(args.compare).resolve().name}"
        compared = compare.write_comparison([Path(args.compare), run.out], against)
        console.print(f"  {_as_typed(compared)}")
    print(run.out)
    return 130 if run.status == "interrupted" else 0


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
        f"  agreement: the pipe cases against {agree.TOOL}, {_plural(rounds, 'round')} of "
        f"{round_trips:,} round trips, interleaved"
    )
    try:
        rows = agree.measure(artifacts, rounds, round_trips)
    except agree.AgreementError as e:
        run.agreement_unavailable = f"failed: {e}"
        console.print(f"  agreement: {run.agreement_unavailable}")
        return
    run.agreement_unavailable = ""
    write_csv(rows, run.out / schema.AGREEMENT_CSV)


def _measure_memory(run: RunState, artifacts: Artifacts, console: Console) -> None:
    budget = memory_budget()
    console.print(f"  memory: goroutines and threads, within a budget of {budget >> 20} MiB")
    rows, stacks = memory.measure(run.profile.memory, artifacts, budget)
    growth = memory.measure_growth(run.profile.memory, artifacts, budget)
    for frame, name in (
        (stacks, "thread_stacks.csv"),
        (growth, "stack_growth.csv"),
        (rows, "memory.csv"),
    ):
        write_csv(frame, run.out / name)


def _write_results(run: RunState) -> None:
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
    overhead.attach_suite(run.out, summary)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=invoked_as(), description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="print the case ids, one per line")
    p.add_argument(
        "--only", metavar="GLOB", help="only cases matching these globs (comma-separated)"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="add each case's description")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("build", help="compile go/ and c/ (cached)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("run", help="measure the cases and write a result folder")
    p.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="default",
        # argparse %-formats help texts: a summary's "±3%" must reach it as "±3%%".
        help="how hard to sample: "
        + "; ".join(f"{s.name}: {s.summary.replace('%', '%%')}" for s in PROFILES.values()),
    )
    p.add_argument(
        "--only", metavar="GLOB", help="only cases matching these globs (comma-separated)"
    )
    p.add_argument(
        "--out", metavar="DIR", help="result folder (default: results/<host>-<UTC time>)"
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="finish an interrupted run: measure its remaining cases into its folder",
    )
    p.add_argument(
        "--repeat",
        metavar="R",
        type=_positive_int,
        default=1,
        help="R passes over the cases, each in a new shuffled order, each adding one batch "
        "of samples to every case (instead of sampling each case to its CI target at once): "
        "drift of the machine then spreads over every case instead of biasing one",
    )
    p.add_argument(
        "--compare",
        metavar="RUN_DIR",
        help="when the run is complete, compare it with this result folder "
        "(into RUN/vs-<name>/); `make bench` compares with results/reference",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("counters", help="which perf counters this machine offers, and why not")
    p.set_defaults(func=cmd_counters)

    p = sub.add_parser(
        "leaks", help="measure the goroutine-leak scenarios alone (a result folder with leaks.csv)"
    )
    p.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="default",
        help="how many calls K of each scenario: "
        + ", ".join(f"{p.name} {p.leak_k}" for p in PROFILES.values()),
    )
    p.add_argument(
        "--out", metavar="DIR", help="result folder (default: results/leaks-<host>-<UTC time>)"
    )
    p.set_defaults(func=cmd_leaks)

    p = sub.add_parser(
        "selfbench",
        help="benchmark the suite itself: whole profiles back to back, their wall times, "
        "the CIs they reach, two default runs compared, go test -bench beside the suite",
    )
    p.add_argument(
        "--profiles",
        default="quick,default,default",
        help="profiles to run, in order (default: quick,default,default)",
    )
    p.add_argument(
        "--go-rounds",
        type=int,
        default=selfbench.GO_TEST_ROUNDS,
        metavar="N",
        help="interleaved rounds of the suite and go test -bench on the same cases "
        f"(default: {selfbench.GO_TEST_ROUNDS}; 0 leaves them out)",
    )
    p.add_argument("--out", metavar="DIR", help="default: results/selfbench-<UTC time>")
    p.set_defaults(func=cmd_selfbench)

    p = sub.add_parser(
        "compare",
        help="set result folders from different machines side by side, against the first",
    )
    p.add_argument("run_dirs", metavar="RUN_DIR", nargs="+", help="two or more result folders")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="where compare.md/.html/.csv go (default: results/compare-<UTC time>)",
    )
    p.add_argument(
        "--noise-band",
        metavar="PCT",
        type=_percent,
        default=compare.NOISE_BAND * 100,
        help="differences smaller than this many %% are never called significant "
        f"(default {compare.NOISE_BAND * 100:.0f}%%: the drift between runs of one shared VM)",
    )
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "report", help="rebuild report.md, report.html and the figures of a result folder"
    )
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        # A command the message names is given as the user started this one, to paste.
        message = str(e).replace("`switchbench ", f"`{invoked_as()} ")
        # One line, whatever the message quotes from a folder: no terminal escapes.
        line = visible(" ".join(message.split()), backslash="\\")
        print(f"switchbench: error: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
