"""summary.csv rows → the report's case tables: all cases cheapest first, the cases not
measured, what the cases are, and how to read them."""

from __future__ import annotations

import pandas as pd

from bench.render.answer import missed_cases
from bench.render.cells import check_cell as _check_cell
from bench.render.cells import ci as _ci
from bench.render.cells import expected as _expected
from bench.render.cells import is_sweep
from bench.render.cells import per_unit as _per_unit
from bench.render.fmt import code
from bench.render.fmt import md as _md
from bench.render.fmt import num as _num


def all_cases(summary: pd.DataFrame) -> list[str]:
    """Every measured case but the sweeps' points, cheapest first, and the MISS note."""
    lines: list[str] = []
    ok = summary[(summary["status"] == "ok") & ~is_sweep(summary)].sort_values("ns_per_switch")
    lines += [
        "## All cases, cheapest first",
        "",
        "Figures are per switch, or per the unit named (a spawned goroutine or thread, a call).",
        "",
        "| case | ns per switch | 95% CI | samples (processes) | OS ctx switches per switch "
        "| expected (range) | check | × go.chan.p1 |",
        "|---|---:|---|---:|---:|---:|---|---:|",
    ]
    for _, row in ok.iterrows():
        lines.append(
            f"| {code(row['case'])} | {_per_unit(row)} | {_ci(row)} "
            f"| {int(row['samples'])} ({int(row['processes'])}) "
            f"| {_num(row['os_ctx_switches_per_switch'])} "
            f"(vol {_num(row['voluntary_ctx_per_switch'], 2)}, "
            f"invol {_num(row['involuntary_ctx_per_switch'], 2)}) "
            f"| {_expected(row)} | {_check_cell(row['os_ctx_check'])} "
            f"| {_num(row['ratio_to_go_chan_p1'], 3)} |"
        )
    missed = missed_cases(summary)
    if not missed.empty:
        lines += [
            "",
            "Flagged **MISS** (listed at the top, with both figures): the measured OS "
            "context switches per switch are outside the range the case's mechanism "
            "gives; read its time with care: "
            + ", ".join(f"{code(c)}" for c in missed["case"])
            + ".",
        ]
    return lines


def not_measured(summary: pd.DataFrame) -> list[str]:
    """The cases skipped or failed, and why."""
    lines: list[str] = []
    not_ok = summary[summary["status"] != "ok"]
    if not not_ok.empty:
        lines += ["", "## Not measured", "", "| case | status | reason |", "|---|---|---|"]
        for _, row in not_ok.iterrows():
            lines.append(f"| {code(row['case'])} | {_md(row['status'])} | {_md(row['reason'])} |")

    return lines


def what_the_cases_are(summary: pd.DataFrame) -> list[str]:
    """Each case's description: what runs, what it expects, and one op."""
    lines: list[str] = []
    lines += [
        "",
        "## What the cases are",
        "",
        "Each case says what runs, how many OS context switches one switch should cost "
        "(the range outside which it is flagged **MISS**), and why.",
        "",
        "| case | what runs, and the OS context switches it expects | one op |",
        "|---|---|---|",
    ]
    for _, row in summary[~is_sweep(summary)].iterrows():
        lines.append(f"| {code(row['case'])} | {_md(row['description'])} | {_md(row['one_op'])} |")
    return lines


def how_to_read() -> list[str]:
    """The guide to the figures, and the Host heading's lead-in."""
    return [
        "",
        "## How to read this",
        "",
        "- One **switch** is one hand-off of control from one goroutine or thread to the other. "
        "A ping-pong round trip is two switches; each sample is the time of many round trips "
        "divided by the switches they hold.",
        "- Only the switching loop is timed: creating, pinning and joining the goroutines or "
        "threads happen outside it.",
        "- **ns per switch** is the median of all samples (pyperf worker processes × values); the "
        "95% CI is a bootstrap interval of that median, resampling worker processes and then "
        "values within each, since one process's values are not independent draws.",
        "- **OS ctx switches per switch** counts the kernel's context switches (voluntary "
        "and involuntary) over the same timed samples, divided by the switches: getrusage, "
        "read without perf counters (an active perf counter slows every switch), for C "
        "over every benchmark thread, for Go over every thread of the driver process. "
        "perf_event_open's context-switches, from a separate counted run, is the fallback "
        "only where getrusage could not be read (the counters table says which source each "
        "case used). About 0 means the switch stayed in user space; about 1 means every "
        "hand-off went through the kernel scheduler once, 2 or 3 that it took more threads "
        "or wake-ups than one. Each case's expected figure and range come from how it "
        "switches (*What the cases are*); a measurement outside the range is a **MISS**.",
        "- Figures from a shared VM are noisy: compare cases within one run, and runs by their "
        "CIs, not their last digit.",
        "",
    ]
