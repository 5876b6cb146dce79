"""`switchbench run`: the options → a result folder, measured (bench.measure.session), reported."""

from __future__ import annotations

import argparse
import shlex
import signal
import time
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from bench.catalogue.profiles import PROFILES
from bench.cli import go_releases
from bench.cli.common import add_profile_and_out, invoked_as, positive_int
from bench.measure import session
from bench.render import compare, report
from bench.render.fmt import as_typed, plural

NAME = "run"
HELP = "measure the cases and write a result folder"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_profile_and_out(
        p,
        # argparse %-formats help texts: a summary's "±3%" must reach it as "±3%%".
        "how hard to sample: "
        + "; ".join(f"{s.name}: {s.summary.replace('%', '%%')}" for s in PROFILES.values()),
        "results/<host>-<UTC time>",
    )
    p.add_argument(
        "--only", metavar="GLOB", help="only cases matching these globs (comma-separated)"
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="finish an interrupted run: measure its remaining cases into its folder",
    )
    p.add_argument(
        "--repeat",
        metavar="R",
        type=positive_int,
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
    p.add_argument(
        "--go",
        metavar="VERSION[,VERSION...]",
        help="measure the Go cases under each of these Go toolchains (e.g. go1.22.12,local), "
        "fetched and cached by the go command (GOTOOLCHAIN): one result folder per "
        "toolchain in --out, the C cases once, and OUT/compare/ across them",
    )


def _interrupt_on_sigterm(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    if getattr(args, "go", None):
        return go_releases.run(args, _interrupt_on_sigterm)
    state, artifacts = session.resumed_run(args) if args.resume else session.new_run(args)
    # soft_wrap: a line is never broken (mid-sentence, or inside a path or a command to
    # paste); the terminal folds what is wider than it. markup=False: ids, reasons and
    # paths are printed as they are.
    console = Console(stderr=True, soft_wrap=True, markup=False)
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    t0 = time.monotonic()
    verb = "resuming" if args.resume else "measuring"
    interleave = f", {state.repeat} interleaved passes" if state.repeat > 1 else ""
    cases_text = f"{len(session.todo(state))} of {plural(len(state.selected), 'case')}"
    what = cases_text if state.selected else session.steps_text(state)
    console.print(
        f"switchbench: {verb} {what}, profile {state.profile.name}{interleave}, "
        f"into {as_typed(state.out)}"
    )
    state.write_run_json(0)
    try:
        session.measure(state, artifacts, console, bool(args.resume), t0)
        state.status = "complete"
    except KeyboardInterrupt:
        state.status = "interrupted"
        console.print(
            "switchbench: interrupted; the finished cases are kept. Finish with: "
            f"{invoked_as()} run --resume {shlex.quote(as_typed(state.out))}"
        )
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    console.print("switchbench: writing the summary and the report…")
    session.write_results(state)
    state.write_run_json(time.monotonic() - t0)
    written = report.write_report(state.out)
    console.print(f"  {as_typed(written)}, {as_typed(written.with_name('report.html'))}")
    if args.compare and state.status == "complete":
        console.print(f"switchbench: comparing with {as_typed(args.compare)}…")
        against = state.out / f"vs-{Path(args.compare).resolve().name}"
        compared = compare.write_comparison([Path(args.compare), state.out], against)
        console.print(f"  {as_typed(compared)}")
    print(state.out)
    return 130 if state.status == "interrupted" else 0
