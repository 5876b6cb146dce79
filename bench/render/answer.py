"""summary.csv rows → the report's answer.

The headline, the figure of every case, the MISS section and the condvar both ways.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from bench.analysis import summary as analyse
from bench.catalogue.cases import FLOOR_CASE, GOROUTINE_CASE, THREAD_CASE
from bench.render.axes import human_axis, ns_label
from bench.render.cells import ci as _ci
from bench.render.cells import expected as _expected
from bench.render.cells import is_sweep
from bench.render.cells import per_unit as _per_unit
from bench.render.fmt import code
from bench.render.fmt import md as _md
from bench.render.fmt import ns as _ns
from bench.render.fmt import num as _num
from bench.render.plot import plt
from bench.render.plot import save as save_figure

FIGURE_STEM = "ns_per_switch"


GROUP_COLOURS = ("#00add8", "#d1495b", "#9e9e9e")


def plot_ns_per_switch(summary: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Bars of median ns per switch with their 95% CIs, log scale, cheapest at the top."""
    ok = summary[(summary["status"] == "ok") & ~is_sweep(summary)]
    ok = ok.sort_values("ns_per_switch", ascending=False)
    if ok.empty:
        return []
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.32 * len(ok)))
    y = list(range(len(ok)))
    medians = ok["ns_per_switch"].to_numpy()
    lows = (ok["ns_per_switch"] - ok["ci_low"]).fillna(0).clip(lower=0).to_numpy()
    highs = (ok["ci_high"] - ok["ns_per_switch"]).fillna(0).clip(lower=0).to_numpy()
    # Points, not bars: on a log axis a bar's length from an arbitrary floor means nothing.
    groups = {
        "goroutines": ok["case"].str.startswith("go."),
        "OS threads / processes": ok["case"].str.startswith("c.")
        & (ok["expected_os_ctx_switches_per_switch"] > 0),
        "C in one thread (ucontext, baselines)": ok["case"].str.startswith("c.")
        & (ok["expected_os_ctx_switches_per_switch"] == 0),
    }
    for (label, mask), colour in zip(groups.items(), GROUP_COLOURS, strict=True):
        idx = [i for i, m in enumerate(mask) if m]
        if idx:
            ax.errorbar(
                medians[idx],
                [y[i] for i in idx],
                xerr=[lows[idx], highs[idx]],
                fmt="o",
                color=colour,
                ecolor="black",
                capsize=4,
                markersize=8,
                markeredgecolor="black",
                label=label,
            )
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_yticks(y, ok["case"])
    ax.set_xscale("log")
    human_axis(ax.xaxis, ns_label)
    ax.set_xlabel("time per switch (median, 95% CI; log scale)")
    # A tall figure: the scale at the top too, where the reader starts.
    ax.tick_params(axis="x", which="both", top=True, labeltop=True)
    for i, (_, row) in enumerate(ok.iterrows()):
        ctx = row["os_ctx_switches_per_switch"]
        label = f"  {_per_unit(row)}, OS ctx/{row.get('unit', 'switch')} {_num(ctx, 2)}"
        ax.text(
            row["ci_high"] if not math.isnan(row["ci_high"]) else row["ns_per_switch"],
            i,
            label,
            va="center",
            fontsize=8,
        )
    ax.set_xlim(right=ax.get_xlim()[1] * 8)
    ax.set_title("One switch (or spawn, or call), cheapest at the top")
    return save_figure(fig, out_dir, FIGURE_STEM)


def headline(summary: pd.DataFrame) -> list[str]:
    ok = summary[summary["status"] == "ok"].set_index("case")
    lines = []
    for case, kind in ((GOROUTINE_CASE, "goroutine"), (THREAD_CASE, "thread")):
        if case in ok.index:
            row = ok.loc[case]
            lines.append(
                f"- One {kind} switch (`{case}`): **{_ns(row['ns_per_switch'])}** "
                f"(95% CI {_ci(row, in_parentheses=True)}), "
                f"{_num(row['os_ctx_switches_per_switch'])} OS context switches per switch."
            )
        else:
            lines.append(f"- One {kind} switch (`{case}`): not measured in this run.")
    if GOROUTINE_CASE in ok.index and THREAD_CASE in ok.index:
        ratio = ok.loc[THREAD_CASE, "ns_per_switch"] / ok.loc[GOROUTINE_CASE, "ns_per_switch"]
        lines.append(
            f"- On this machine a thread switch costs **{ratio:.1f}×** a goroutine switch."
        )
    lines += [line for pair in CONTEXT_PAIRS if (line := _pair_line(ok, *pair))]
    if FLOOR_CASE in ok.index:
        floor = ok.loc[FLOOR_CASE]
        line = (
            f"- Under both, the user-space floor: `{FLOOR_CASE}` switches two contexts of "
            f"one thread with no system call in **{_ns(floor['ns_per_switch'])}** (OS "
            f"switches per switch: {_num(floor['os_ctx_switches_per_switch'])})"
        )
        if GOROUTINE_CASE in ok.index and floor["ns_per_switch"] > 0:
            times = ok.loc[GOROUTINE_CASE, "ns_per_switch"] / floor["ns_per_switch"]
            line += f"; a goroutine switch costs {times:.1f}× that"
        lines.append(line + ".")
    return lines


# A switch of two contexts of one thread with no system call (Boost.Context).
# The condition variable signalled under its mutex (the design card's case) and after
# letting go of it, per placement.
CONDVAR_BOTH_WAYS = {
    placement: (f"c.condvar.{placement}", f"c.condvar.signal-unlocked.{placement}")
    for placement in ("same-core", "cross-core", "unpinned")
}


def condvar_section(summary: pd.DataFrame) -> list[str]:
    """The two condition-variable hand-offs side by side, and why they differ, from the
    measured counts; [] when no placement has both."""
    ok = summary[summary["status"] == "ok"].set_index("case")
    both = {p: pair for p, pair in CONDVAR_BOTH_WAYS.items() if all(c in ok.index for c in pair)}
    if not both:
        return []
    lines = [
        "## Condition variables, both ways",
        "",
        "The design card's thread case signals the condition variable while it holds the "
        "mutex; its twin lets go of the mutex first, then signals. Same threads, same "
        "placement, one line of code apart:",
        "",
        "| placement | signalled | ns per switch | OS ctx switches per switch | voluntary "
        "| involuntary |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for placement, (under, after) in both.items():
        for case, words in ((under, "under the mutex"), (after, "after unlocking")):
            row = ok.loc[case]
            lines.append(
                f"| {placement} | {words} (`{case}`) | {_ns(row['ns_per_switch'])} "
                f"| {_num(row['os_ctx_switches_per_switch'])} "
                f"| {_num(row['voluntary_ctx_per_switch'])} "
                f"| {_num(row['involuntary_ctx_per_switch'])} |"
            )
    lines.append("")
    for placement, (under, after) in both.items():
        a, b = ok.loc[under], ok.loc[after]
        extra = a["os_ctx_switches_per_switch"] - b["os_ctx_switches_per_switch"]
        if math.isnan(extra):
            continue
        ratio = a["ns_per_switch"] / b["ns_per_switch"]
        said = (
            f"{placement}: signalling under the mutex made {_num(extra, 2)} more OS context "
            f"switches per switch than signalling after unlocking, and took {ratio:.2f}× "
            "the time."
        )
        if extra >= 0.5:
            said += (
                " The extra switches are the woken waiter's: woken while the signaller "
                "still holds the mutex, it runs, finds the mutex taken and sleeps again "
                "until the signaller lets go."
            )
            if placement == "same-core":
                said += (
                    " On one CPU the waiter runs at once because the kernel lets a woken "
                    "thread preempt its waker, which is how the signaller is caught "
                    "holding the mutex."
                )
        elif extra > -0.5:
            said += (
                " Here the two made about as many: the waiter did not find the mutex "
                "held, because it ran on another CPU after the signaller had let go, or "
                "not before."
            )
        lines.append(f"- {said}")
    return [*lines, ""]


# The headline divides a case with about 2 kernel switches per hand-off by one with
# none; these set it in context: the same primitive in both languages, and the cheapest
# kernel hand-off (one kernel switch) against the goroutine switch.
CONTEXT_PAIRS = (
    ("the same primitive, a condition variable, in both", "go.cond.p1", THREAD_CASE),
    ("the cheapest kernel hand-off, a futex", GOROUTINE_CASE, "c.futex.same-core"),
)


def _pair_line(ok: pd.DataFrame, words: str, goroutine: str, thread: str) -> str | None:
    """One context ratio with each side's OS context switches per switch; None when
    either case was not measured."""
    if goroutine not in ok.index or thread not in ok.index:
        return None
    go, th = ok.loc[goroutine], ok.loc[thread]
    ratio = th["ns_per_switch"] / go["ns_per_switch"]
    return (
        f"- Beside it, {words}: `{thread}` ({_ns(th['ns_per_switch'])}; OS switches per "
        f"switch: {_num(th['os_ctx_switches_per_switch'])}) costs **{ratio:.1f}×** "
        f"`{goroutine}` ({_ns(go['ns_per_switch'])}; OS switches per switch: "
        f"{_num(go['os_ctx_switches_per_switch'])})."
    )


def missed_cases(summary: pd.DataFrame) -> pd.DataFrame:
    """The measured cases whose OS switches per switch fell outside their expected range."""
    verdicts = summary["os_ctx_check"].map(analyse.check_verdict)
    return summary[(summary["status"] == "ok") & (verdicts == "MISS")]


def miss_section(summary: pd.DataFrame) -> list[str]:
    """Every case whose measured OS switches per switch contradict its mechanism, with
    both figures; [] when none does."""
    missed = missed_cases(summary)
    if missed.empty:
        return []
    measured = (summary["status"] == "ok").sum()
    lines = [
        "## MISS: switches that did not work as their case says",
        "",
        f"{len(missed)} of {measured} measured cases made a number of OS context switches "
        "per switch outside the range their mechanism gives (*What the cases are* says "
        "why each expects what it does). Their switch did not go the way the case "
        "describes, so its time is not the cost of that kind of switch: read it with care.",
        "",
    ]
    for _, row in missed.iterrows():
        unit = row.get("unit") or "switch"
        lines.append(
            f"- {code(row['case'])}: measured **{_num(row['os_ctx_switches_per_switch'])}** "
            f"OS context switches per {_md(unit)} (voluntary "
            f"{_num(row['voluntary_ctx_per_switch'], 2)}, involuntary "
            f"{_num(row['involuntary_ctx_per_switch'], 2)}; {_md(row['os_ctx_source'])}), "
            f"expected **{_expected(row)}**."
        )
    return [*lines, ""]
