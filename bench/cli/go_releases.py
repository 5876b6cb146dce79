"""`switchbench run --go A,B` → OUT/<toolchain>/ per Go toolchain, each reported, and OUT/compare/.

The toolchains are resolved and their programs built (bench.native.toolchains) before
any folder is made; bench.measure.toolchains measures the folders interleaved; this
module writes each folder's results and report and the comparison across them, whose
table of what differs shows the Go version.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from bench.analysis import comparison
from bench.cli.common import invoked_as
from bench.errors import UsageError
from bench.measure import session, toolchains
from bench.native import toolchains as native_toolchains
from bench.native.build import build
from bench.render import compare, report
from bench.render import go_releases as index
from bench.render.fmt import as_typed, plural


def _arguments(args: argparse.Namespace) -> None:
    """--go's partners that cannot work with it, a used --out and a bad --compare,
    refused before anything is fetched, built or written."""
    if args.resume:
        raise UsageError(
            "--resume does not take --go; resume each toolchain's folder on its own: "
            "switchbench run --resume OUT/<toolchain>"
        )
    out = Path(args.out) if args.out else None
    if out is not None and (out.is_symlink() or (out.exists() and not out.is_dir())):
        raise UsageError(f"--out {out} is not a folder; name a new one")
    if out is not None and out.is_dir() and any(out.iterdir()):
        raise UsageError(f"--out {out} already exists and is not an empty folder; name a new one")
    if args.compare:
        comparison.load_runs([Path(args.compare)])


def run(args: argparse.Namespace, on_sigterm: Callable[[int, FrameType | None], Any]) -> int:
    """The whole run with --go; 0 when complete, 130 when interrupted."""
    _arguments(args)
    console = Console(stderr=True, soft_wrap=True, markup=False)
    # C first (cached), as for any run; each folder's session.new_run below also builds
    # what a plain run would with the installed go (cached too), which --go then replaces.
    base = build({"c"})
    prepared = native_toolchains.prepare(args.go, base)
    arms = toolchains.new_runs(args, prepared)
    out = arms[0].run.out.parent
    signal.signal(signal.SIGTERM, on_sigterm)
    t0 = time.monotonic()
    first = arms[0].run
    names = ", ".join(f"{a.toolchain.spelling} ({a.toolchain.version})" for a in arms)
    console.print(
        f"switchbench: measuring {plural(len(first.selected), 'case')} under "
        f"{plural(len(arms), 'Go toolchain')}: {names}; profile {first.profile.name}; "
        f"Go cases interleaved, C cases once; into {as_typed(out)}"
    )
    for arm in arms:
        arm.run.write_run_json(0)
    status = "complete"
    try:
        toolchains.measure(arms, console, t0)
    except KeyboardInterrupt:
        status = "interrupted"
        console.print(
            "switchbench: interrupted; the finished cases are kept. Finish each folder with "
            + "; ".join(
                f"{invoked_as()} run --resume {shlex.quote(as_typed(a.run.out))}" for a in arms
            )
        )
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    toolchains.share_c_cases(arms)
    console.print("switchbench: writing the summaries and the reports…")
    for arm in arms:
        arm.run.status = status
        session.write_results(arm.run)
        arm.run.write_run_json(time.monotonic() - t0)
        written = report.write_report(arm.run.out)
        console.print(f"  {as_typed(written)}")
    if status == "complete" and len(arms) > 1:
        console.print("switchbench: comparing the toolchains…")
        folders = [a.run.out for a in arms]
        compared = compare.write_comparison(folders, out / toolchains.COMPARE_FOLDER)
        console.print(f"  {as_typed(compared)}")
        if args.compare:
            for arm in arms:
                against = arm.run.out / f"vs-{Path(args.compare).resolve().name}"
                compare.write_comparison([Path(args.compare), arm.run.out], against)
    console.print(f"  {as_typed(index.write_index(out))}")
    print(out)
    return 130 if status == "interrupted" else 0
