"""summary.csv rows → the report's precision section and the note on CIs from too few processes."""

from __future__ import annotations

import math

import pandas as pd

from bench.analysis import stats
from bench.render.cells import is_sweep
from bench.render.cells import per_unit as _per_unit
from bench.render.cells import slope as slope_cell
from bench.render.fmt import code
from bench.render.fmt import md as _md
from bench.render.fmt import num as _num


def within_process_note(summary: pd.DataFrame) -> list[str]:
    """A paragraph on CIs from too few processes, when the measured cases have any."""
    ok = summary[summary["status"] == "ok"]
    scopes = ok["processes"].map(stats.within_processes)
    few = ok[ok["ci_low"].notna() & (scopes != "")]
    if few.empty:
        return []
    marks = " or ".join(f"*{s}*" for s in sorted(set(scopes[few.index])))
    return [
        "",
        f"{len(few)} of {len(ok)} measured cases rest on fewer than "
        f"{stats.MIN_PROCESSES_FOR_CI} worker processes, and their CI is marked {marks}: "
        "it covers only how the values scatter inside those processes, not how processes "
        "differ from one another. Each process settles at a level of its own and the "
        "machine drifts, so separate runs will differ by more than that interval: do not "
        "read a difference between runs into it.",
    ]


def precision_section(summary: pd.DataFrame) -> list[str]:
    """The median beside the regression slope, R², and why sampling stopped."""
    ok = summary[(summary["status"] == "ok") & ~is_sweep(summary)].sort_values("ns_per_switch")
    if ok.empty or ok["slope_ns_per_switch"].isna().all():
        return []
    doubtful = ok[ok["trust"].fillna("ok").astype(str).isin(["ok", ""]) == False]  # noqa: E712
    lines = [
        "## Precision: the median against the regression",
        "",
        "Two estimates of one switch: the **median** of the per-sample figures, and the "
        "**slope** of a least-squares line of each timed run's elapsed time against its "
        "switches, over runs of the values' loop count and of 1/2, 1/4 and 1/8 of it, "
        "made after the values in a shuffled order. The "
        "slope leaves out what every run pays once (the *intercept*: starting the loop, "
        "reading the clock and counters); R² says how well a straight line fits. The line "
        "is fitted within each worker process, each keeping an intercept of its own, since "
        "processes settle at levels of their own. Both CIs are bootstrap 95% intervals that "
        "resample worker processes, then values or runs within each; the slope's needs "
        f"{stats.MIN_PROCESSES_FOR_SLOPE_CI} processes, and from fewer the range of the "
        "single processes' slopes stands in its place. A case is flagged when its "
        "median's CI is wider "
        f"than ±{stats.MAX_CI_HALF_WIDTH:.0%}, R² is under {stats.MIN_R_SQUARED}, "
        f"or its CI rests on fewer than {stats.MIN_PROCESSES_FOR_CI} worker processes "
        "(*within one process*: it cannot see how processes, or runs, differ). "
        "*Stopped* says why its sampling ended: *target*, its CI reached the profile's "
        f"target over at least {stats.MIN_PROCESSES_FOR_CI} processes; *budget*, its "
        "time ran out first; *one batch*, the profile takes one.",
        "",
    ]
    if doubtful.empty:
        lines += ["No case is flagged.", ""]
    else:
        lines += [
            f"**{len(doubtful)} of {len(ok)} cases flagged:** "
            + ", ".join(code(c) for c in doubtful["case"])
            + ".",
            "",
        ]
    lines += [
        "| case | median | CI ± | slope (95% CI) | intercept | R² | stopped | flag |",
        "|---|---:|---:|---|---:|---:|---|---|",
    ]
    for _, row in ok.iterrows():
        slope_text = slope_cell(row)
        half = row["ci_half_width"]
        scope = stats.within_processes(row["processes"])
        half_text = "—" if math.isnan(half) else f"{half:.1%}" + (f" ({scope})" if scope else "")
        intercept = row["intercept_ns"]
        lines.append(
            f"| {code(row['case'])} | {_per_unit(row)} "
            f"| {half_text} | {slope_text} "
            f"| {'—' if math.isnan(intercept) else f'{intercept / 1e6:,.2f} ms'} "
            f"| {_num(row['r_squared'], 3)} | {_md(row['stop'] or '—')} "
            f"| {_md(row['trust'] or '—')} |"
        )
    lines.append("")
    return lines
