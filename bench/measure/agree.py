"""The pipe cases and `perf bench sched pipe` → agreement.csv rows, measured interleaved.

Independent agreement: the suite's pipe cases beside `perf bench sched pipe`.

Linux perf's scheduler benchmark ping-pongs one token between two tasks over two
pipes, the mechanism of the suite's c.pipe.procs.same-core (two processes) and,
with -T, c.pipe.threads.same-core (two threads of one process), once both sides
of perf are pinned to the CPU the cases use. A figure the suite shares with an
established tool is a figure that is not an artefact of the suite's harness, so
the two are measured in the same run, interleaved round by round (a shared VM's
speed drifts from one minute to the next, and two tools timed minutes apart
would compare the machine's moods), and their ratio is given with a CI from a
bootstrap over rounds.

What each clock covers differs, and is said in the report: perf reads its clock
before it forks its second process (or creates its two threads) and after it
has waited for it, so its time holds that start-up and exit; the suite's clock
covers the hand-off loop alone. The round trips per run are chosen so that this
is a small share of perf's time.

measure() gives one row per (round, comparison, source) (AGREEMENT_COLUMNS, written by the
caller as agreement.csv); summarise() reduces them; section_lines() renders
them for the report.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from bench.catalogue.cases import get_case
from bench.catalogue.placement import affinity_refused, pin_cpus, usable_cpus
from bench.native.bridge import CBody, GoBody, NativeError, case_skip_reason, runner_for
from bench.native.build import Artifacts
from bench.results.schema import AGREEMENT_COLUMNS

TOOL = "perf bench sched pipe"
SUITE = "switchbench"
INSTALL_HINT = "apt-get install linux-perf"
DEFAULT_ROUNDS = 10
DEFAULT_ROUND_TRIPS = 20_000
PROBE_ROUND_TRIPS = 100  # tool_unavailable's trial run: enough to print a result
# One run of the tool may take this long, plus this much per round trip: 25 times
# what a slow VM needs (about 4 µs a round trip), so only a hung tool meets it.
TOOL_TIMEOUT_S = 30.0
TOOL_TIMEOUT_PER_ROUND_TRIP_S = 100e-6


class Pair(NamedTuple):
    """One comparison: what perf is given after `perf bench sched pipe`, the suite's
    case of the same mechanism, and how the two sides are set up, in words."""

    args: tuple[str, ...]
    case: str
    words: str


PAIRS = (
    Pair((), "c.pipe.procs.same-core", "two processes"),
    Pair(("-T",), "c.pipe.threads.same-core", "two threads of one process"),
)


class AgreementError(RuntimeError):
    """A run of the tool or of the suite's case failed; the message is one line."""


@dataclass(frozen=True)
class ToolResult:
    """What one run of `perf bench sched pipe` printed."""

    ops: int | None  # "Executed N pipe operations", None where not printed
    between: str | None  # "processes" or "threads", None where not printed
    usecs_per_op: float


_EXECUTED = re.compile(r"Executed\s+(\d+)\s+pipe operations between two\s+(\w+)")
_USECS_PER_OP = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?)\s+usecs/op\s*$", re.MULTILINE)


def parse_tool_output(text: str) -> ToolResult:
    """perf's report of one run; ValueError where it holds no usecs/op."""
    found = _USECS_PER_OP.search(text)
    if found is None:
        raise ValueError("printed no usecs/op")
    usecs = float(found.group(1))
    if not math.isfinite(usecs) or usecs <= 0:
        raise ValueError(f"printed {found.group(1)} usecs/op")
    executed = _EXECUTED.search(text)
    if executed is None:
        return ToolResult(None, None, usecs)
    return ToolResult(int(executed.group(1)), executed.group(2), usecs)


def tool_ns_per_switch(result: ToolResult) -> float:
    """perf's op is one round trip, two switches on one CPU."""
    return result.usecs_per_op * 1000 / 2


def tool_argv(perf: str, pair: Pair, round_trips: int) -> list[str]:
    return [perf, "bench", "sched", "pipe", *pair.args, "-l", str(round_trips)]


def _shown(argv: list[str]) -> str:
    """An argv as it reads in a message: perf by its name, not its path."""
    return " ".join([os.path.basename(argv[0]), *argv[1:]])


def _pinned(cpu: int) -> Callable[[], None]:
    # Set in the child before exec: perf's forked process and threads inherit it,
    # so both of perf's sides run on the one CPU, as both sides of the case do.
    return lambda: os.sched_setaffinity(0, {cpu})


def _run_tool(perf: str, pair: Pair, round_trips: int, cpu: int) -> ToolResult:
    """One pinned run of the tool; AgreementError, in one line, when it fails."""
    argv = tool_argv(perf, pair, round_trips)
    timeout = TOOL_TIMEOUT_S + TOOL_TIMEOUT_PER_ROUND_TRIP_S * round_trips
    # The C locale: the decimal point perf prints is then the one parsed here.
    env = {**os.environ, "LC_ALL": "C"}
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            preexec_fn=_pinned(cpu),
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AgreementError(f"`{_shown(argv)}` ran past {timeout:.0f} s and was killed") from None
    except (OSError, subprocess.SubprocessError) as e:
        raise AgreementError(f"`{_shown(argv)}` could not be started: {e}") from None
    said = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    if done.returncode != 0:
        why = said[-1] if said else f"exit status {done.returncode}"
        raise AgreementError(f"`{_shown(argv)}` failed: {' '.join(why.split())}")
    try:
        result = parse_tool_output(done.stdout)
    except ValueError as e:
        raise AgreementError(f"`{_shown(argv)}` {e}") from None
    if result.ops is not None and result.ops != round_trips:
        raise AgreementError(
            f"`{_shown(argv)}` ran {result.ops:,} pipe operations, not {round_trips:,}"
        )
    # A perf that ignored -T (or took it for something else) would time the other
    # mechanism: its own words on what it ran are checked where it prints them.
    wanted = "threads" if "-T" in pair.args else "processes"
    if result.between in ("processes", "threads") and result.between != wanted:
        raise AgreementError(f"`{_shown(argv)}` ran between two {result.between}, not {wanted}")
    return result


def _cpu() -> int:
    """The CPU both sides are pinned to: the one the same-core cases use."""
    return pin_cpus("same-core", usable_cpus())[0]


def tool_unavailable() -> str | None:
    """Why `perf bench sched pipe` cannot be set beside the suite here, with what to do
    about it; None when it can. A short pinned trial run is made, since perf being on
    PATH does not mean it runs (Debian's /usr/bin/perf refuses a kernel it was not
    built for). perf_event_paranoid is not consulted: `perf bench` opens no counters."""
    perf = shutil.which("perf")
    if perf is None:
        return f"`perf` is not on PATH; install it (Debian: `{INSTALL_HINT}`) and run again"
    refused = affinity_refused()
    if refused:
        return (
            "both sides must be pinned to one CPU and this process may not set its CPU "
            f"affinity ({refused})"
        )
    try:
        _run_tool(perf, PAIRS[0], PROBE_ROUND_TRIPS, _cpu())
    except AgreementError as e:
        return f"{e}; install a working perf (Debian: `{INSTALL_HINT}`) and run again"
    return None


def _suite_ns_per_switch(runner: CBody | GoBody, case: str, round_trips: int) -> float:
    """One timed run of the case, through the code path its benchmark uses (perf
    counters off, as in a timed run: an open counter makes every switch dearer)."""
    try:
        run = runner(round_trips)
        run.check()
    except NativeError as e:
        raise AgreementError(f"{case}: {' '.join(str(e).split())}") from None
    # The case's op is one round trip, two switches (switches_per_op = 2).
    return run.elapsed_ns / run.ops / 2


def measure(
    artifacts: Artifacts,
    rounds: int = DEFAULT_ROUNDS,
    round_trips: int = DEFAULT_ROUND_TRIPS,
    on_progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The tool and the suite's cases, interleaved: in each round, for each pair, one
    run of the tool and one of the case, both of round_trips round trips on the same
    CPU. Odd rounds go through the runs in the reverse order, so that neither source
    nor either pair always runs first, where a drift in the machine's speed across a
    round would favour it. One row per (round, pair, source), columns AGREEMENT_COLUMNS.
    AgreementError when the tool is unavailable or any run fails."""
    if rounds < 1 or round_trips < 1:
        raise ValueError(f"need 1+ rounds and 1+ round trips, not {rounds} and {round_trips}")
    progress = on_progress or (lambda s: None)
    why = tool_unavailable()
    if why:
        raise AgreementError(why)
    perf = shutil.which("perf")
    assert perf is not None  # tool_unavailable found it
    cpus = usable_cpus()
    for pair in PAIRS:
        why = case_skip_reason(get_case(pair.case), cpus)
        if why:
            raise AgreementError(f"{pair.case} cannot run here: {why}")
    cpu = _cpu()
    runners = {pair.case: runner_for(get_case(pair.case), artifacts) for pair in PAIRS}
    try:
        # Untimed first runs: perf's binary paged in, the library's code and the
        # pipes' kernel paths warm, before anything is kept.
        warm = max(1, min(round_trips, 1000))
        for pair in PAIRS:
            progress(f"agreement: warming up {pair.case} and {TOOL}")
            _run_tool(perf, pair, warm, cpu)
            _suite_ns_per_switch(runners[pair.case], pair.case, warm)
        steps = [(pair, source) for pair in PAIRS for source in (TOOL, SUITE)]
        rows = []
        for r in range(rounds):
            for pair, source in steps if r % 2 == 0 else steps[::-1]:
                progress(f"agreement: round {r + 1} of {rounds}, {pair.case}, {source}")
                if source == TOOL:
                    value = tool_ns_per_switch(_run_tool(perf, pair, round_trips, cpu))
                else:
                    value = _suite_ns_per_switch(runners[pair.case], pair.case, round_trips)
                rows.append(
                    {
                        "comparison": pair.case,
                        "source": source,
                        "round": r,
                        "round_trips": round_trips,
                        "ns_per_switch": value,
                        "cpu": cpu,
                    }
                )
    finally:
        for runner in runners.values():
            runner.close()
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
