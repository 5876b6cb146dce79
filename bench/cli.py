"""The `switchbench` command: list, build, run, report."""

from __future__ import annotations

import argparse
import dataclasses
import json
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench import analyse, cases, host, measure, report, system, tidy
from bench.build import build, source_root
from bench.errors import UsageError
from bench.native import HARDWARE_COUNTERS, probe_counters


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, exit status 2, like every other input error of the suite.
        self.exit(2, f"switchbench: error: {message} (see `{self.prog} --help`)\n")


def _default_out() -> Path:
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return source_root() / "results" / f"{name or 'host'}-{stamp}"


def _create_out(out: Path) -> None:
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
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)


def cmd_list(args: argparse.Namespace) -> int:
    for case in cases.select(args.only):
        print(f"{case.id:24} {case.description}" if args.verbose else case.id)
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
    for name in ("summary.csv", "host.json"):
        if not (folder / name).is_file():
            raise UsageError(
                f"{folder / name} is missing; give a result folder made by `switchbench run`"
            )
    print(report.write_report(folder))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    profile = measure.PROFILES[args.profile]
    selected = cases.select(args.only)
    if not args.only:
        selected = [c for c in selected if profile.includes(c)]
    console = Console(stderr=True)
    artifacts = build({c.lang for c in selected})
    out = Path(args.out) if args.out else _default_out()
    _create_out(out)

    started = datetime.now(UTC)
    t0 = time.monotonic()
    raw = out / "raw"
    raw.mkdir()
    machine = host.probe()
    machine["counters"] = (
        probe_counters(artifacts.c_library)
        if artifacts.c_library.is_file()
        else {"not probed": "the C library was not built for this run"}
    )
    _write_json(out / "host.json", machine)
    console.print(f"switchbench: {len(selected)} cases, profile {profile.name}, into {out}")

    outcomes: list[measure.CaseOutcome] = []
    status = "complete"
    cpus = cases.usable_cpus()
    runnable = [c for c in selected if cases.skip_reason(c, cpus) is None]
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    sampler = system.SystemSampler(out)
    try:
        with sampler, Progress(*columns, console=console, transient=True) as progress:
            total = sum(profile.sampling(c).worker_processes for c in runnable)
            task = progress.add_task("starting", total=total)
            for i, case in enumerate(selected, 1):
                progress.update(task, description=f"[{i}/{len(selected)}] {case.id}")
                done_before = progress.tasks[0].completed
                start_s = sampler.now()
                outcome = measure.run_case(
                    case,
                    profile,
                    artifacts,
                    raw,
                    lambda: progress.advance(task),
                    lambda pid, case_id=case.id: sampler.measuring(case_id, pid),
                )
                sampler.idle()
                outcome = dataclasses.replace(outcome, start_s=start_s, end_s=sampler.now())
                if cases.skip_reason(case, cpus) is None:
                    workers = profile.sampling(case).worker_processes
                    progress.update(task, completed=done_before + workers)
                outcomes.append(outcome)
                note = f"{outcome.wall_s:.1f} s" if outcome.status == "ok" else outcome.reason
                console.print(f"  {case.id:24} {outcome.status:8} {note}")
    except KeyboardInterrupt:
        status = "interrupted"
        console.print("switchbench: interrupted; keeping the cases that finished")

    suite_json = out / "suite.json"
    measure.write_suite(outcomes, suite_json)
    if suite_json.is_file():
        samples = tidy.write_samples(suite_json, out / "samples.csv")
    else:
        samples = tidy.empty_samples()
    finished = {o.case.id for o in outcomes}
    not_measured = {o.case.id: (o.status, o.reason) for o in outcomes if o.status != "ok"}
    not_measured.update(
        {
            c.id: ("not run", "the run was interrupted first")
            for c in selected
            if c.id not in finished
        }
    )
    analyse.write_summary(analyse.summarise(samples, selected, not_measured), out / "summary.csv")
    _write_json(
        out / "run.json",
        {
            "status": status,
            "profile": profile.name,
            "profile_settings": dataclasses.asdict(profile),
            "started_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "wall_s": round(time.monotonic() - t0, 1),
            "argv": sys.argv,
            "cases": {
                o.case.id: {
                    "status": o.status,
                    "reason": o.reason,
                    "wall_s": round(o.wall_s, 2),
                    "start_s": o.start_s,
                    "end_s": o.end_s,
                }
                for o in outcomes
            },
        },
    )
    report.write_report(out)
    print(out)
    return 130 if status == "interrupted" else 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="switchbench", description=__doc__)
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
        choices=list(measure.PROFILES),
        default="default",
        help="how hard to sample: "
        + "; ".join(f"{p.name}: {p.summary}" for p in measure.PROFILES.values()),
    )
    p.add_argument(
        "--only", metavar="GLOB", help="only cases matching these globs (comma-separated)"
    )
    p.add_argument(
        "--out", metavar="DIR", help="result folder (default: results/<host>-<UTC time>)"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("counters", help="which perf counters this machine offers, and why not")
    p.set_defaults(func=cmd_counters)

    p = sub.add_parser("report", help="rebuild report.md and the figures of a result folder")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        print(f"switchbench: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
