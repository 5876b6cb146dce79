"""Options and built Go toolchains → one result folder per toolchain, measured interleaved.

`switchbench run --go A,B` makes OUT/A/ and OUT/B/, each an ordinary result folder (so
`report`, `compare`, `pyperf compare_to` and benchstat read them unchanged). The Go
cases run under every toolchain, alternating toolchains case by case (and with
--repeat, pass by pass in a new order), so the machine's drift falls on all of them
alike. The C cases do not depend on Go: they are measured once, in the first
toolchain's folder, and their files are copied into the others (marked so in
run.json's `stop`), so that every folder is a complete report with its own
thread-side baseline and compare's normalised views. The steps (overhead, memory,
leaks) run in every folder, each with that toolchain's programs; the agreement step
is C alone: it runs in the first and is copied like the C cases. host.json records
each toolchain's `go version`.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import shutil
import time
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench.catalogue.cases import Case
from bench.measure import overhead, runner, session, system
from bench.measure.steps import measure_steps
from bench.native.build import Artifacts
from bench.native.toolchains import Toolchain
from bench.results.checks import JSON_LIMIT
from bench.results.schema import AGREEMENT_CSV, GO_RELEASES_JSON, HOST_JSON, OVERHEAD_CSV
from bench.results.write import create_out, default_out, read_json, write_json

# Marks a C case in a later folder's run.json (bench.render.go_releases reads it).
COPIED = "measured once, copied from"
COMPARE_FOLDER = "compare"  # OUT/compare/: compare across the toolchains' folders


@dataclasses.dataclass
class Arm:
    """One toolchain's result folder and the programs it built."""

    toolchain: Toolchain
    artifacts: Artifacts
    run: session.RunState


def _record_toolchain(folder: Path, toolchain: Toolchain) -> None:
    """host.json's Go version is the toolchain's, not the installed go's."""
    host = read_json(folder / HOST_JSON, JSON_LIMIT)
    host.setdefault("versions", {})["go"] = toolchain.version_line
    host["go_toolchain"] = {
        "requested": toolchain.spelling,
        "version": toolchain.version,
        "selected_by": f"GOTOOLCHAIN={toolchain.spelling}",
    }
    write_json(folder / HOST_JSON, host)


def new_runs(args: argparse.Namespace, prepared: list[tuple[Toolchain, Artifacts]]) -> list[Arm]:
    """OUT/<toolchain>/ for each, begun as session.new_run begins a folder."""
    out = Path(args.out) if args.out else default_out("go-releases")
    create_out(out)
    arms = []
    for i, (toolchain, artifacts) in enumerate(prepared):
        own = argparse.Namespace(**{**vars(args), "out": str(out / toolchain.spelling)})
        run, _ = session.new_run(own)
        _record_toolchain(run.out, toolchain)
        if i > 0:
            # Measured once, in the first folder, and copied in afterwards.
            run.selected = [c for c in run.selected if c.lang == "go"]
            run.agreement = False
        arms.append(Arm(toolchain, artifacts, run))
    write_json(
        out / GO_RELEASES_JSON,
        {
            "toolchains": [
                {
                    "requested": a.toolchain.spelling,
                    "version": a.toolchain.version,
                    "go_version": a.toolchain.version_line,
                    "folder": a.toolchain.spelling,
                }
                for a in arms
            ],
            "c_cases_measured_in": arms[0].toolchain.spelling,
            "compare": COMPARE_FOLDER,
        },
    )
    return arms


def _rotated(n: int, start: int) -> list[int]:
    """0..n-1 starting at start (mod n): which toolchain goes first moves case by case."""
    start %= n
    return [*range(start, n), *range(start)]


def _note(console: Console, label: str, o: runner.CaseOutcome, width: int) -> None:
    if o.status != "ok":
        note = o.reason
    else:
        note = f"{o.wall_s:.1f} s, CI ±{o.ci_half_width:.1%}, {o.stop}"
    console.print(f"  {label:{width}}  {o.status:8} {note}")


def _measure_cases(
    arms: list[Arm],
    samplers: list[system.SystemSampler],
    twins: list[overhead.Twins | None],
    console: Console,
    progress: Progress,
    task: object,
    t0: float,
) -> None:
    """Every pass: the cases in order (shuffled with --repeat); a Go case under each
    toolchain in turn, the first toolchain moving on by one from case to case."""
    first = arms[0].run
    width = (
        max((len(c.id) for c in first.selected), default=0)
        + 3
        + max(len(a.toolchain.spelling) for a in arms)
    )
    for pass_no in range(1, first.repeat + 1):
        order: list[Case] = list(first.selected)
        if first.repeat > 1:
            random.Random(f"{first.started_utc}/{pass_no}").shuffle(order)
            console.print(f"  pass {pass_no} of {first.repeat}")
        for i, case in enumerate(order, 1):
            turn = [0] if case.lang != "go" else _rotated(len(arms), i + pass_no)
            for k in turn:
                arm = arms[k]
                if session.passes_done(arm.run).get(case.id, 0) >= pass_no:
                    continue
                label = f"{case.id} @ {arm.toolchain.spelling}"
                progress.update(task, description=f"[{i}/{len(order)}] {label}")
                outcome = session.measure_case(arm.run, case, arm.artifacts, samplers[k], twins[k])
                progress.advance(task)
                arm.run.write_run_json(time.monotonic() - t0)
                _note(console, label, outcome, width)


def share_c_cases(arms: list[Arm]) -> None:
    """The first folder's finished C cases, copied into the other folders, which list
    them in the first folder's order; a case already there is left as it is."""
    source = arms[0]
    for arm in arms[1:]:
        for o in source.run.outcomes:
            if o.case.lang == "go" or any(x.case.id == o.case.id for x in arm.run.outcomes):
                continue
            raw = None
            if o.raw_json is not None and o.raw_json.is_file():
                raw = arm.run.out / "raw" / o.raw_json.name
                shutil.copyfile(o.raw_json, raw)
            shared = f"{COPIED} ../{source.toolchain.spelling}"
            shared = f"{o.stop}; {shared}" if o.stop else shared
            arm.run.outcomes.append(dataclasses.replace(o, raw_json=raw, stop=shared))
        have = {c.id for c in arm.run.selected} | {x.case.id for x in arm.run.outcomes}
        arm.run.selected = [c for c in source.run.selected if c.id in have]


def measure(arms: list[Arm], console: Console, t0: float) -> None:
    """The cases of every folder, interleaved, then each folder's steps."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with ExitStack() as stack:
        samplers = [stack.enter_context(system.SystemSampler(a.run.out)) for a in arms]
        twins = [
            overhead.Twins(a.artifacts)
            if a.run.overhead and not (a.run.out / OVERHEAD_CSV).is_file()
            else None
            for a in arms
        ]
        progress = stack.enter_context(Progress(*columns, console=console, transient=True))
        total = sum(len(a.run.selected) * a.run.repeat for a in arms)
        task = progress.add_task("starting", total=total)
        _measure_cases(arms, samplers, twins, console, progress, task, t0)
        share_c_cases(arms)
        for arm, twin in zip(arms, twins, strict=True):
            console.print(f"  steps under {arm.toolchain.spelling} ({arm.toolchain.version})")
            measure_steps(arm.run, arm.artifacts, console, progress, task, twin)
        share_agreement(arms)


def share_agreement(arms: list[Arm]) -> None:
    """The agreement check (the C pipe cases against perf bench) as the first folder
    has it, copied into the others beside their copies of those cases."""
    first = arms[0].run
    for arm in arms[1:]:
        if (first.out / AGREEMENT_CSV).is_file():
            shutil.copyfile(first.out / AGREEMENT_CSV, arm.run.out / AGREEMENT_CSV)
        arm.run.agreement = first.agreement
        arm.run.agreement_unavailable = first.agreement_unavailable
