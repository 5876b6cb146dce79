"""summary.csv's sweep points → the report's scaling and working-set figures, tables and slopes.

The scaling and working-set sweeps in the report: their figures, their tables, and
the checks that each sweep point times its switching and nothing else.

A sweep point's median and its regression slope (bench.analysis.summary) measure the same thing
two ways; they agree, and the regression's intercept (what one timed run pays once:
starting the rings, the last laps finishing alone) is small against the run, only when
the timed region holds switching alone. Both are checked here for every point.

The working-set ring is set beside the same touching done by one context without a
switch (the `touch` cases), as lmbench's lat_ctx subtracts it: what is left is what the
switch itself costs the caches.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from bench.render.axes import sweep_axes
from bench.render.cells import check_cell, ci, expected, slope
from bench.render.fmt import code, md, ns, num
from bench.render.plot import plt
from bench.render.plot import save as save_figure

LANG_COLOURS = {"go": "#00add8", "c": "#d1495b"}
LANG_WORDS = {"go": "goroutines", "c": "threads"}
# A sweep point times only switching when its median and slope agree within this share
# of the slope, and its intercept is under this share of one timed run.
SLOPE_AGREES_WITHIN = 0.10
INTERCEPT_SHARE_MAX = 0.05

SWEEP_TEXT = {
    "pairs": (
        "Scaling: independent pairs at once",
        "N ping-pong pairs run at the same time; the figure is the wall time of the run "
        "divided by every switch of every pair, so it falls when pairs overlap on several "
        "CPUs and rises when the scheduler struggles with many runnable threads or "
        "goroutines. Goroutine pairs share GOMAXPROCS=every CPU; each thread pair is "
        "pinned to one CPU, the pairs dealt in turn over the CPUs, as a goroutine pair "
        "keeps to one P. Every pair is built, its threads or goroutines started and "
        "waiting, before the timed region, and all pairs start together.",
        "pairs",
    ),
    "ring": (
        "The cache cost of a switch: a ring of contexts",
        "A ring of contexts passes one token; each touches its own working set (one write "
        "per 64-byte line) at every turn, as lmbench's lat_ctx does. Every buffer is "
        "allocated and first touched before the timed region. The ring's figure includes "
        "the touching; the working-set table below sets it beside the same touching "
        "without a switch.",
        "working set",
    ),
}


def _lang(case_id: str) -> str:
    return str(case_id).split(".")[0]


def _points(summary: pd.DataFrame, sweep: str) -> pd.DataFrame:
    rows = summary[(summary["status"] == "ok") & (summary["sweep"] == sweep)]
    return rows.assign(lang=rows["case"].map(_lang))


def slope_gap(row: pd.Series) -> float:
    """How far the median lies from the slope, as a share of the slope (NaN: no slope)."""
    fitted = row["slope_ns_per_switch"]
    if math.isnan(fitted) or fitted <= 0:
        return math.nan
    return float(row["ns_per_switch"] / fitted - 1)


def intercept_share(row: pd.Series) -> float:
    """The intercept as a share of one timed run (NaN where either is unknown)."""
    run = row.get("run_ns", math.nan)
    if not isinstance(run, float) or math.isnan(run) or run <= 0:
        return math.nan
    return float(row["intercept_ns"] / run)


def point_check(row: pd.Series) -> str:
    """'ok', or why a sweep point's timed region may hold more than switching."""
    doubts = []
    gap, share = slope_gap(row), intercept_share(row)
    if not math.isnan(gap) and abs(gap) > SLOPE_AGREES_WITHIN:
        doubts.append(f"median {gap:+.0%} off the slope")
    if not math.isnan(share) and abs(share) > INTERCEPT_SHARE_MAX:
        doubts.append(f"intercept {share:+.1%} of a run")
    if math.isnan(gap) and math.isnan(share):
        return "unavailable"
    return "; ".join(doubts) or "ok"


def _percent(value: float, digits: int = 1) -> str:
    return "—" if math.isnan(value) else f"{value:+.{digits}%}"


def touch_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per language and working set: the ring's ns per switch, the same touching's ns
    per turn with no switch, and their difference (what the switch costs the caches).
    The difference's interval is conservative: from the ends of the two CIs."""
    ring, touch = _points(summary, "ring"), _points(summary, "touch")
    rows = []
    for _, r in ring.sort_values(["lang", "sweep_x"], ascending=[False, True]).iterrows():
        mine = touch[(touch["lang"] == r["lang"]) & (touch["sweep_x"] == r["sweep_x"])]
        t = mine.iloc[0] if not mine.empty else None
        zero = r["sweep_x"] == 0  # no working set, nothing touched
        touch_ns = 0.0 if zero else (t["ns_per_switch"] if t is not None else math.nan)
        low = 0.0 if zero else (t["ci_low"] if t is not None else math.nan)
        high = 0.0 if zero else (t["ci_high"] if t is not None else math.nan)
        rows.append(
            {
                "lang": r["lang"],
                "working_set": int(r["sweep_x"]),
                "ring_case": r["case"],
                "touch_case": "" if zero or t is None else t["case"],
                "ring_ns": r["ns_per_switch"],
                "touch_ns": touch_ns,
                "switch_only_ns": r["ns_per_switch"] - touch_ns,
                "switch_only_low": r["ci_low"] - high,
                "switch_only_high": r["ci_high"] - low,
            }
        )
    return pd.DataFrame(rows)


def plot(summary: pd.DataFrame, sweep: str, out_dir: Path) -> list[Path]:
    """ns per switch against the swept value, one line for goroutines, one for threads;
    for the ring, dashed beside each, the switch alone (the touching taken off)."""
    ok = _points(summary, sweep)
    if ok.empty:
        return []
    fig, ax = plt.subplots(figsize=(7, 4.2))
    scale = 1024 if sweep == "ring" else 1
    for lang, label in LANG_WORDS.items():
        mine = ok[ok["lang"] == lang].sort_values("sweep_x")
        if mine.empty:
            continue
        err = [
            (mine["ns_per_switch"] - mine["ci_low"]).fillna(0).clip(lower=0).to_numpy(),
            (mine["ci_high"] - mine["ns_per_switch"]).fillna(0).clip(lower=0).to_numpy(),
        ]
        ax.errorbar(
            mine["sweep_x"].to_numpy(dtype=float) / scale,
            mine["ns_per_switch"].to_numpy(),
            yerr=err,
            fmt="o-",
            color=LANG_COLOURS[lang],
            capsize=3,
            label=f"{label}{', touching included' if sweep == 'ring' else ''}",
            markeredgecolor="black",
        )
    if sweep == "ring":
        table = touch_table(summary)
        for lang, label in LANG_WORDS.items():
            mine = table[(table["lang"] == lang) & table["touch_ns"].notna()]
            mine = mine[mine["switch_only_ns"] > 0]
            if len(mine) < 2:
                continue
            ax.plot(
                mine["working_set"].to_numpy(dtype=float) / scale,
                mine["switch_only_ns"].to_numpy(),
                "s--",
                color=LANG_COLOURS[lang],
                alpha=0.8,
                label=f"{label}, switch only (touching taken off)",
            )
    sweep_axes(ax, sweep)
    ax.set_title(
        "Scaling: time per switch as pairs are added"
        if sweep == "pairs"
        else "The cache cost of a switch: a ring of contexts"
    )
    ax.set_ylabel("time per switch (median, 95% CI)")
    ax.legend(fontsize="small")
    return save_figure(fig, out_dir, f"sweep_{sweep}", dpi=120)


def _checks_sentence(points: pd.DataFrame) -> str:
    checks = points.apply(point_check, axis=1)
    judged = checks[checks != "unavailable"]
    if judged.empty:
        return (
            "No point has a slope to check its median against (a point needs runs of "
            "several loop counts)."
        )
    off = points.loc[judged[judged != "ok"].index]
    head = (
        f"Each point's median is checked against its regression slope (they agree within "
        f"±{SLOPE_AGREES_WITHIN:.0%} when the timed region holds switching alone) and its "
        f"intercept against one timed run (under {INTERCEPT_SHARE_MAX:.0%}): "
    )
    if off.empty:
        return head + f"all {len(judged)} points pass."
    return (
        head
        + f"{len(off)} of {len(judged)} do not: "
        + "; ".join(f"{code(r['case'])} ({md(point_check(r))})" for _, r in off.iterrows())
        + ". Their figures hold more than switching, or too few runs to tell."
    )


def _working_set_lines(summary: pd.DataFrame) -> list[str]:
    table = touch_table(summary)
    if table.empty:
        return []
    lines = [
        "### Working set, lmbench-style: the switch without the touching",
        "",
        "*Touch only* is the same touching with the same buffers and no switch: one "
        "context touches the ring's buffers in turn (the `touch` cases). *Switch only* is "
        "the ring less that: what a switch costs the caches beyond the touching itself. Its "
        "interval runs from the ends of the two CIs, so it is wider than either.",
        "",
        "| working set | contexts | ring (ns per switch) | touch only (ns per turn) "
        "| switch only | switch only, interval |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for _, r in table.iterrows():
        touched = "0 (nothing to touch)" if r["working_set"] == 0 else ns(r["touch_ns"])
        if r["working_set"] and not r["touch_case"]:
            touched = "not measured"
        interval = (
            "—"
            if math.isnan(r["switch_only_low"])
            else f"{ns(r['switch_only_low'])} – {ns(r['switch_only_high'])}"
        )
        lines.append(
            f"| {r['working_set'] // 1024} KiB | {LANG_WORDS.get(r['lang'], md(r['lang']))} "
            f"| {ns(r['ring_ns'])} | {touched} | {ns(r['switch_only_ns'])} | {interval} |"
        )
    return [*lines, ""]


def section_lines(summary: pd.DataFrame, figures: dict[str, list[Path]]) -> list[str]:
    lines: list[str] = []
    for sweep, (title, text, x_name) in SWEEP_TEXT.items():
        points = _points(summary, sweep)
        if points.empty:
            continue
        pictures = [f"![{title}]({p.name})\n" for p in figures.get(sweep, []) if p.suffix == ".png"]
        lines += [f"## {title}", "", text, "", *pictures, _checks_sentence(points), ""]
        lines += [
            f"| case | {x_name} | ns per switch | 95% CI | slope | median vs slope "
            "| intercept / run | processes | OS ctx switches per switch | expected (range) "
            "| check |",
            "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|",
        ]
        for _, row in points.sort_values(["lang", "sweep_x"], ascending=[False, True]).iterrows():
            x = int(row["sweep_x"])
            shown = f"{x // 1024} KiB" if sweep == "ring" else str(x)
            lines.append(
                f"| {code(row['case'])} | {shown} | {ns(row['ns_per_switch'])} | {ci(row)} "
                f"| {slope(row)} | {_percent(slope_gap(row))} "
                f"| {_percent(intercept_share(row), 2)} | {int(row['processes'])} "
                f"| {num(row['os_ctx_switches_per_switch'])} | {expected(row)} "
                f"| {check_cell(row['os_ctx_check'])} |"
            )
        lines.append("")
        if sweep == "ring":
            lines += _working_set_lines(summary)
    return lines
