"""agreement.csv (summarised) → the report's section.

The suite's pipe cases beside perf bench sched pipe.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.analysis.agreement import MIN_ROUNDS_FOR_CI, SUMMARY_COLUMNS
from bench.analysis.stats import AGREE_WITHIN, CONFIDENCE
from bench.measure.agree import INSTALL_HINT, TOOL
from bench.render.fmt import ci_range, code, md, missing, ns, num, number


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
    return lines + _rows_and_verdicts(summary)


def _rows_and_verdicts(summary: pd.DataFrame) -> list[str]:
    """The table's rows, then a line for each comparison that does not agree (or one
    saying that every one does)."""
    lines: list[str] = []
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
        ci = "" if missing(low) or missing(high) else f"; {CONFIDENCE:.0%} CI "
        ci += "" if not ci else ci_range(low, high, num)
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
