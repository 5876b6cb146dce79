"""Independent agreement: the suite's pipe cases beside `perf bench sched pipe`.

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

import numpy as np
import pandas as pd

from bench.analysis.stats import BOOTSTRAP_RESAMPLES, CONFIDENCE, percentile_ci
from bench.catalogue.cases import get_case
from bench.catalogue.placement import affinity_refused, pin_cpus, skip_reason, usable_cpus
from bench.native.bridge import CBody, GoBody, NativeError, runner_for
from bench.native.build import Artifacts
from bench.render.fmt import code, md, missing, ns, num, number
from bench.results.schema import AGREEMENT_COLUMNS

TOOL = "perf bench sched pipe"
SUITE = "switchbench"
INSTALL_HINT = "apt-get install linux-perf"
AGREE_WITHIN = 0.10  # the two agree when suite / tool is within 1 ± this
DEFAULT_ROUNDS = 10
DEFAULT_ROUND_TRIPS = 20_000
PROBE_ROUND_TRIPS = 100  # tool_unavailable's trial run: enough to print a result
# One run of the tool may take this long, plus this much per round trip: 25 times
# what a slow VM needs (about 4 µs a round trip), so only a hung tool meets it.
TOOL_TIMEOUT_S = 30.0
TOOL_TIMEOUT_PER_ROUND_TRIP_S = 100e-6
# Below this many paired rounds a bootstrap over rounds says nothing (it can only
# reshuffle one or two values): the CI is then left empty.
MIN_ROUNDS_FOR_CI = 3
SEED = 0

SUMMARY_COLUMNS = [
    "comparison",
    "tool",
    "rounds",
    "round_trips",
    "cpu",
    "switchbench_ns",
    "tool_ns",
    "ratio",
    "ci_low",
    "ci_high",
    "agree",
]


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
        why = skip_reason(get_case(pair.case), cpus)
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


# ---- the summary ------------------------------------------------------------


def _tool_words(comparison: str) -> str:
    pair = next((p for p in PAIRS if p.case == comparison), None)
    return TOOL if pair is None else " ".join([TOOL, *pair.args])


def _single(values: pd.Series) -> float:
    """The one value a column holds for a comparison; NaN where it holds several."""
    unique = values.dropna().unique()
    return float(unique[0]) if len(unique) == 1 else math.nan


def ratio_ci(suite: np.ndarray, tool: np.ndarray, seed: int = SEED) -> tuple[float, float]:
    """95% CI of median(suite) / median(tool) by a paired bootstrap: rounds (the
    i-th value of each) are drawn with replacement, since the two sources were run
    side by side in each round and share that round's conditions."""
    suite, tool = np.asarray(suite, dtype=float), np.asarray(tool, dtype=float)
    ratio = float(np.median(suite) / np.median(tool))
    if len(suite) < MIN_ROUNDS_FOR_CI:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, len(suite), size=(BOOTSTRAP_RESAMPLES, len(suite)))
    resampled = np.median(suite[picked], axis=1) / np.median(tool[picked], axis=1)
    return percentile_ci(ratio, resampled)


def agrees(ratio: float) -> str:
    """'yes' or 'no' on AGREE_WITHIN; '' where no ratio could be formed."""
    if missing(ratio) or not math.isfinite(ratio):
        return ""
    return "yes" if abs(ratio - 1) <= AGREE_WITHIN + 1e-12 else "no"


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per comparison (PAIRS' order first): each source's median ns per switch over
    the rounds both sources have, their ratio suite / tool with its paired bootstrap
    CI, and whether it is within ±AGREE_WITHIN. Cells may be text (agreement.csv as
    a folder reader gives it): whatever is not a number is left out."""
    frame = rows.copy()
    for column in AGREEMENT_COLUMNS:
        if column not in frame.columns:
            frame[column] = math.nan
    for column in ("round", "round_trips", "ns_per_switch", "cpu"):
        frame[column] = frame[column].map(number)
    frame["comparison"] = frame["comparison"].astype(str)
    frame["source"] = frame["source"].astype(str)
    usable = frame[(frame["ns_per_switch"] > 0) & frame["round"].notna()]
    known = [p.case for p in PAIRS]
    seen = list(dict.fromkeys(frame["comparison"]))
    order = [c for c in known if c in seen] + [c for c in seen if c not in known]
    out = []
    for comparison in order:
        mine = usable[usable["comparison"] == comparison]
        # A round's value per source (the median, should a round appear twice).
        by_round = mine.groupby(["round", "source"])["ns_per_switch"].median().unstack()
        for source in (SUITE, TOOL):
            if source not in by_round.columns:
                by_round[source] = math.nan
        paired = by_round[[SUITE, TOOL]].dropna()
        row = dict.fromkeys(SUMMARY_COLUMNS, math.nan)
        row.update(comparison=comparison, tool=_tool_words(comparison), agree="")
        row.update(
            rounds=len(paired),
            round_trips=_single(mine["round_trips"]),
            cpu=_single(mine["cpu"]),
        )
        if len(paired):
            suite, tool = paired[SUITE].to_numpy(), paired[TOOL].to_numpy()
            ratio = float(np.median(suite) / np.median(tool))
            low, high = ratio_ci(suite, tool)
            row.update(
                switchbench_ns=float(np.median(suite)),
                tool_ns=float(np.median(tool)),
                ratio=ratio,
                ci_low=low,
                ci_high=high,
                agree=agrees(ratio),
            )
        out.append(row)
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


# ---- the report's section -------------------------------------------------


def _count(value: float, what: str) -> str:
    return f"{value:,.0f} {what}{'' if value == 1 else 's'}"


def _common(summary: pd.DataFrame, column: str) -> float:
    """The value every comparison shares in column; NaN where they differ."""
    values = {number(v) for v in summary[column]}
    values = {v for v in values if not missing(v)}
    return values.pop() if len(values) == 1 else math.nan


def _ratio_cell(row: pd.Series) -> str:
    ratio, low, high = number(row["ratio"]), number(row["ci_low"]), number(row["ci_high"])
    if missing(ratio):
        return "—"
    if missing(low) or missing(high):
        return f"{num(ratio)} (no CI: fewer than {MIN_ROUNDS_FOR_CI} rounds)"
    return f"{num(ratio)} ({num(low)} – {num(high)})"


def section_lines(summary: pd.DataFrame | None, unavailable: str | None) -> list[str]:
    """The report's "Checked against an independent tool" section, from summarise()'s
    frame; with `unavailable` (tool_unavailable's reason), one line saying so. []
    when there is neither."""
    title = "## Checked against an independent tool"
    if unavailable:
        hint = "" if INSTALL_HINT in unavailable else f" (Debian: `{INSTALL_HINT}`)"
        return [
            title,
            "",
            f"Not checked against `{TOOL}`: {md(unavailable)}{hint}.",
            "",
        ]
    if summary is None or summary.empty:
        return []
    summary = summary.copy()
    for column in SUMMARY_COLUMNS:
        if column not in summary.columns:
            summary[column] = math.nan
    rounds = _common(summary, "rounds")
    trips = _common(summary, "round_trips")
    cpu = _common(summary, "cpu")
    how = []
    if not missing(rounds):
        how.append(f"in {_count(rounds, 'round')}")
    if not missing(trips):
        how.append(f"{_count(trips, 'round trip')} a run")
    where = f", both sides of each pinned to CPU {cpu:.0f}" if not missing(cpu) else ""
    lines = [
        title,
        "",
        f"Each pipe case is set beside `{TOOL}` (Linux perf's scheduler benchmark: one "
        "token ping-pongs between two processes over two pipes, or with `-T` between two "
        "threads of one process), measured in this run and interleaved: in each round the "
        "tool ran once and the case once, with the same number of round trips, in an order "
        f"reversed every other round ({', '.join(how) or 'rounds as in agreement.csv'}"
        f"{where}). One op of perf's `usecs/op` is one round trip of a 4-byte token, two "
        "switches on one CPU: ns per switch = usecs/op × 1000 / 2. The suite's op is one "
        "round trip of a 1-byte token: ns per switch = the timed loop's ns / round trips "
        "/ 2. The ratio is switchbench / tool, medians over the rounds, with a "
        f"{CONFIDENCE:.0%} CI from a bootstrap over rounds (paired: a round's two "
        "figures are drawn together); the two agree when the ratio is within "
        f"±{AGREE_WITHIN:.0%}.",
        "",
        "Where the two are built differently: perf's clock runs from before it forks its "
        "second process (or creates its two threads) to after it has waited for it, so "
        "its figure also holds that start and exit, spread over the run's round trips, "
        "while the suite's clock covers the loop alone. With processes, perf's two sides "
        "are single-threaded processes; the suite's runs one side on a thread of the "
        "measuring process, which has other threads, and the other in a process forked "
        "from it, and a switch into a process of several threads can cost more than one "
        "into a process of one.",
        "",
        "| case | tool | switchbench (ns per switch) | tool (ns per switch) "
        f"| ratio ({CONFIDENCE:.0%} CI) | within ±{AGREE_WITHIN:.0%} |",
        "|---|---|---:|---:|---|---|",
    ]
    differ = []
    for _, row in summary.iterrows():
        verdict = str(row["agree"]) if row["agree"] in ("yes", "no") else "—"
        lines.append(
            f"| {code(row['comparison'])} | {code(row['tool'])} "
            f"| {ns(number(row['switchbench_ns']))} | {ns(number(row['tool_ns']))} "
            f"| {_ratio_cell(row)} | {verdict} |"
        )
        if verdict == "no":
            differ.append(row)
    lines.append("")
    for row in differ:
        ratio, low, high = number(row["ratio"]), number(row["ci_low"]), number(row["ci_high"])
        ci = f"; {CONFIDENCE:.0%} CI {num(low)} – {num(high)}"
        ci = "" if missing(low) or missing(high) else ci
        more = "more" if ratio > 1 else "less"
        lines += [
            f"{code(row['comparison'])} and {code(row['tool'])} differ by more than "
            f"±{AGREE_WITHIN:.0%}: switchbench / tool = {num(ratio)}{ci}, the suite's "
            f"figure {abs(ratio - 1):.0%} {more} than the tool's.",
            "",
        ]
    if not differ and (summary["agree"] == "yes").all():
        lines += [
            f"Every comparison agrees within ±{AGREE_WITHIN:.0%}: an established tool "
            "timing the same mechanism finds what the suite finds.",
            "",
        ]
    return lines
