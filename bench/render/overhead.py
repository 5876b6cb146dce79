"""overhead.csv → the report's overhead section.

The minimal loops beside the suite's cases, and the timer.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.analysis.overhead import with_suite
from bench.analysis.stats import AGREE_WITHIN
from bench.measure.overhead import KIND_COST, KIND_LOOP, KIND_RESOLUTION, TARGET_LOOP_MS
from bench.render.fmt import code, md, missing, ns, num, number, with_ci
from bench.results.schema import OVERHEAD_COLUMNS


def _agrees(ratio: float) -> bool | None:
    if missing(ratio):
        return None
    return abs(ratio - 1) <= AGREE_WITHIN


def _over(a: float, b: float) -> float:
    return a / b if b > 0 and not missing(a) else math.nan


def _ratio_range(row: pd.Series) -> tuple[float, float]:
    """suite / minimal at the ends of both CIs (the widest the ratio could be)."""
    low = _over(number(row["suite_ci_low"]), number(row["ci_high"]))
    high = _over(number(row["suite_ci_high"]), number(row["ci_low"]))
    return low, high


def _loop_lines(loops: pd.DataFrame) -> list[str]:
    lines = [
        "| suite case | suite | minimal loop | suite / minimal | from the CIs | within 10% |",
        "|---|---:|---:|---:|---|---|",
    ]
    agree, differ, unknown, programs = [], [], [], []
    for _, row in loops.iterrows():
        trips, samples = number(row["round_trips"]), number(row["samples"])
        processes, measured = number(row.get("processes")), row.get("measured")
        how = "" if missing(trips) else f"; N = {trips:,.0f} round trips"
        if not missing(samples):
            how += f"; {samples:,.0f} timed loops"
            how += "" if missing(processes) else f" in {processes:,.0f} processes"
        if not missing(measured):
            how += f", measured {md(measured)}"
        programs.append(f"- {code(row['case'])}: {md(row['what'])}{how}.")
        name = code(row["suite_case"])
        if row["status"] != "ok":
            lines.append(f"| {name} | | {md(row['status'])}: {md(row['reason'])} | | | |")
            unknown.append(name)
            continue
        ratio = number(row["ratio"])
        suite = with_ci(
            number(row["suite_ns"]), number(row["suite_ci_low"]), number(row["suite_ci_high"])
        )
        if missing(number(row["suite_ns"])):
            suite = f"not measured ({md(row['suite_status'])})"
        low, high = _ratio_range(row)
        spread = "—" if missing(low) or missing(high) else f"{num(low)} – {num(high)}"
        verdict = _agrees(ratio)
        minimal = with_ci(number(row["minimal_ns"]), number(row["ci_low"]), number(row["ci_high"]))
        lines.append(
            f"| {name} | {suite} | {minimal} | {num(ratio)} | {spread} "
            f"| {'—' if verdict is None else 'yes' if verdict else 'no'} |"
        )
        if verdict is None:
            unknown.append(name)
        elif verdict:
            agree.append(name)
        else:
            differ.append(f"{name} ({(ratio - 1):+.0%})")
    lines += ["", *programs, ""]
    said = []
    if agree:
        said.append(
            f"{', '.join(agree)}: the suite and the minimal loop agree within "
            f"{AGREE_WITHIN:.0%}: the suite's figure is the loop's own, not the harness's."
        )
    if differ:
        said.append(
            f"{', '.join(differ)}: the suite and the minimal loop differ by more than "
            f"{AGREE_WITHIN:.0%} (in brackets, how much more time the suite's figure holds); "
            "part of that figure is the harness, or the run's conditions, not the switch."
        )
    if unknown:
        said.append(
            f"{', '.join(unknown)}: no comparison (the suite or the minimal loop was "
            "not measured in this run)."
        )
    return [*lines, " ".join(said), ""] if said else lines


def _timer_lines(timers: pd.DataFrame, loops: pd.DataFrame) -> list[str]:
    def value(case: str) -> float:
        rows = timers[(timers["case"] == case) & (timers["status"] == "ok")]
        return number(rows.iloc[0]["minimal_ns"]) if not rows.empty else math.nan

    lines = [
        "| what | measured | |",
        "|---|---:|---|",
    ]
    for _, row in timers.iterrows():
        if row["status"] != "ok":
            shown = f"{md(row['status'])}: {md(row['reason'])}"
            note = ""
        else:
            median = number(row["minimal_ns"])
            if row["kind"] == KIND_COST:
                shown = with_ci(median, number(row["ci_low"]), number(row["ci_high"]))
                note = f"median over {num(number(row['samples']))} batches of calls"
                suite = number(row["suite_ns"])
                if not missing(suite):
                    note += f"; the suite's {code(row['suite_case'])}: {ns(suite)}"
            else:
                shown, note = ns(median), ""
        lines.append(f"| {md(row['what'])} ({code(row['case'])}) | {shown} | {note} |")
    lines.append("")
    for prefix, clock in (
        ("timer.c.clock_gettime", "`clock_gettime`"),
        ("timer.go.time_now", "`time.Now`"),
    ):
        cost, step = value(prefix), value(f"{prefix}.step")
        if missing(cost) or missing(step):
            continue
        if step <= 1.5 * cost:
            lines.append(
                f"- {clock}: the smallest step seen ({ns(step)}) is about one read's cost "
                f"({ns(cost)}): successive reads cannot come closer, so the clock ticks at "
                "least that finely."
            )
        else:
            lines.append(
                f"- {clock}: the smallest step seen ({ns(step)}) is more than one read's "
                f"cost ({ns(cost)}): the clock's resolution is about {ns(step)}."
            )
    lines.append("")
    # What the clock can do to one timed loop: two reads and one step of resolution.
    loop_ns = [
        number(r["minimal_ns"]) * 2 * number(r["round_trips"])
        for _, r in loops.iterrows()
        if r["status"] == "ok"
    ]
    loop_ns = [x for x in loop_ns if not missing(x) and x > 0]
    reads = [
        2 * value(p) + value(f"{p}.step") for p in ("timer.c.clock_gettime", "timer.go.time_now")
    ]
    worst = max((x for x in reads if not missing(x)), default=math.nan)
    if loop_ns and not missing(worst):
        share = worst / min(loop_ns)
        verdict = (
            "the timer does not limit these figures"
            if share < 0.001
            else "the timer is a visible part of these figures"
        )
        lines += [
            f"Two clock reads and one step of resolution ({ns(worst)} at most) against the "
            f"shortest timed loop of the minimal programs ({ns(min(loop_ns))}) are "
            f"{share:.2g} of it: {verdict}.",
            "",
        ]
    return lines


def section_lines(frame: pd.DataFrame | None, summary: pd.DataFrame) -> list[str]:
    """The report's "Harness overhead and the timer" section from overhead.csv as
    bench.results.read reads it (text cells, NaN where empty), beside the suite's
    figures from summary.csv; [] without overhead.csv."""
    title = "## Harness overhead and the timer"
    if frame is None:
        return []
    frame = with_suite(frame, summary)
    for column in OVERHEAD_COLUMNS:
        if column not in frame.columns:
            frame[column] = math.nan
    loops = frame[frame["kind"] == KIND_LOOP]
    timers = frame[frame["kind"].isin([KIND_COST, KIND_RESOLUTION])]
    lines = [
        title,
        "",
        "Each suite figure below is set beside the same ping-pong written again as a minimal "
        "program with no harness, just the loop and a clock (go/cmd/minimal, c/minimal.c): "
        "no pyperf, no cffi, no driver protocol, no counters, no order check. N round trips "
        f"per timed loop, N chosen so one loop takes about {TARGET_LOOP_MS:.0f} ms. A loop "
        "is measured between the batches of its suite case, one process of a few loops "
        "after each batch, so that both are timed in the same minutes (a shared machine's "
        "speed moves from one minute to the next); where that could not be, after the "
        "cases, in one process. The median and its bootstrap 95% CI, by process. "
        "*suite / minimal* above 1 is time the suite spends that the bare loop does not; "
        "*from the CIs* is that ratio at the ends of both intervals.",
        "",
    ]
    if not loops.empty:
        lines += _loop_lines(loops)
    if not timers.empty:
        lines += [
            "The clock that times every sample: one read's cost, and its resolution as "
            "clock_getres reports it and as the smallest non-zero step seen between two "
            "successive reads.",
            "",
            *_timer_lines(timers, loops),
        ]
    return lines
