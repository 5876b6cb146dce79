"""samples.csv's canary, summary.csv's mood columns and run.json → "How noisy was this machine".

The mood canary (bench.native.canary) was timed just before and just after every timed
value; this section shows it over the run, how far it moved, and for each case how much
of the case's variance it explained and how much the adjustment (bench.analysis.mood)
narrowed the CI. A folder without the canary (made before it) shows nothing here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.analysis.mood import MIN_CANARY_R2, canary_of
from bench.catalogue.cases import CATALOGUE
from bench.catalogue.profiles import SPREAD_PLACEMENTS
from bench.render.axes import human_axis, ns_label
from bench.render.fmt import code, md, ns, number
from bench.render.plot import case_spans, images, plt
from bench.render.plot import save as save_figure

FIGURE_STEM = "mood_canary"


def _placed(samples: pd.DataFrame, run: dict[str, Any]) -> pd.DataFrame:
    """Each timed value with a canary, at a time in the run: samples.csv holds no clock,
    so a case's values are spread evenly over its span in run.json (start_s to end_s),
    in their order (process, then value): pyperf runs a case's processes one by one."""
    timed = samples[samples["kind"] == "timed"] if "kind" in samples.columns else samples
    timed = timed.assign(canary=canary_of(timed)).dropna(subset=["canary"])
    rows = []
    spans = run.get("cases") or {}
    for case, mine in timed.groupby("case", sort=False):
        span = spans.get(case) or {}
        start, end = span.get("start_s"), span.get("end_s")
        if not (isinstance(start, int | float) and isinstance(end, int | float) and end > start):
            continue
        order = mine.sort_values(["process", "sample"]) if "sample" in mine else mine
        at = start + (np.arange(len(order)) + 0.5) / len(order) * (end - start)
        rows.append(pd.DataFrame({"case": case, "t_s": at, "canary": order["canary"].to_numpy()}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def plot_mood(folder: Path, run: dict[str, Any], samples: pd.DataFrame) -> list[Path]:
    placed = _placed(samples, run)
    if placed.empty:
        return []
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ax.plot(placed["t_s"], placed["canary"], ".", color="black", ms=2)
    ax.set_yscale("log")
    human_axis(ax.yaxis, ns_label)
    ax.set_xlabel("seconds into the run (a case's values spread evenly over its span)")
    ax.set_ylabel("canary, ns per load")
    ax.set_title("The mood canary beside every timed value (slower: a busier machine)")
    case_spans(ax, run)
    ax.grid(alpha=0.3)
    return save_figure(fig, folder, FIGURE_STEM)


def _half_width(median: object, low: object, high: object) -> float:
    m, lo, hi = number(median), number(low), number(high)
    return (hi - lo) / 2 / m if m > 0 else math.nan


def _with_half_width(median: float, half: float) -> str:
    """'131 ns ±1.0%'; the median alone where there is no CI, one dash where neither."""
    return ns(median) if math.isnan(half) else f"{ns(median)} ±{half:.1%}"


def _slope(name: str, beta: float, low: float, high: float) -> str:
    """'canary 0.05 (0.01 to 0.09)' in the table's dashes; '' where not in the fit."""
    if math.isnan(beta):
        return ""
    ci = "" if math.isnan(low) else f" ({low:.2f} – {high:.2f})"
    return f"{name} {beta:.2f}{ci}"


def _case_row(row: pd.Series) -> str:
    raw = _half_width(row["ns_per_switch"], row["ci_low"], row["ci_high"])
    adj = _half_width(row["adjusted_ns"], row["adjusted_ci_low"], row["adjusted_ci_high"])
    narrowed = f"{raw / adj:.2f}×" if raw > 0 and adj > 0 else "—"
    # The fit's R²; a folder from before the CPU share has only the canary's, which was
    # then the fit's.
    r2 = number(row.get("mood_r2", math.nan))
    r2 = number(row["canary_r2"]) if math.isnan(r2) else r2
    slopes = [
        _slope("canary", *(number(row[c]) for c in ("canary_beta", *BETA_CI["canary"]))),
        _slope(
            "share",
            *(number(row.get(c, math.nan)) for c in ("share_beta", *BETA_CI["share"])),
        ),
    ]
    share = number(row.get("cpu_share", math.nan))
    trusted = number(row["mood_adjusted"]) == 1
    headline = "adjusted" if trusted else f"raw: {md(row['mood_note'])}"
    return (
        f"| {code(row['case'])} | {ns(number(row['canary_ns']))} | "
        f"{'—' if math.isnan(share) else f'{share:.3f}'} | "
        f"{'—' if math.isnan(r2) else f'{r2:.2f}'} | "
        f"{'; '.join(s for s in slopes if s) or '—'} | "
        f"{_with_half_width(number(row['ns_per_switch']), raw)} | "
        f"{_with_half_width(number(row['adjusted_ns']), adj)} | {narrowed} | {headline} |"
    )


BETA_CI = {
    "canary": ("canary_beta_ci_low", "canary_beta_ci_high"),
    "share": ("share_beta_ci_low", "share_beta_ci_high"),
}


def _one_cpu(summary: pd.DataFrame) -> pd.DataFrame:
    """The measured cases that run on one CPU: neither spread over CPUs by the scheduler
    nor sweep points (the profile samples them to its CI target; the answer rests on
    them). A case the catalogue does not know (a stranger's folder) is left out."""
    on_one = {c.id for c in CATALOGUE if not c.sweep and c.placement not in SPREAD_PLACEMENTS}
    return summary[(summary["status"] == "ok") & summary["case"].isin(on_one)]


def precision_line(summary: pd.DataFrame, run: dict[str, Any]) -> str:
    """How many one-CPU cases reached the profile's CI target, raw and as headlined."""
    settings = run.get("profile_settings") or {}
    target = number((settings.get("cases") or {}).get("target_ci"))
    one = _one_cpu(summary)
    if one.empty or not target > 0:
        return ""
    raw = one.apply(lambda r: _half_width(r["ns_per_switch"], r["ci_low"], r["ci_high"]), axis=1)
    adj = one.apply(
        lambda r: _half_width(r["adjusted_ns"], r["adjusted_ci_low"], r["adjusted_ci_high"]),
        axis=1,
    )
    trusted = one["mood_adjusted"].map(number) == 1
    headline = adj.where(trusted, raw)
    return (
        f"On one CPU ({len(one)} cases: neither spread over CPUs nor sweep points), "
        f"{int((raw <= target).sum())} reached the ±{target:.0%} target with the raw CI and "
        f"{int((headline <= target).sum())} with the headline one (the adjusted CI where "
        f"trusted: {int(trusted.sum())} cases); the adjusted CI came out narrower than the "
        f"raw one for {int((adj < raw).sum())} of them, trusted or not."
    )


def mood_section(
    samples: pd.DataFrame,
    summary: pd.DataFrame,
    figures: dict[str, list[Path]],
    run: dict[str, Any] | None = None,
) -> list[str]:
    """The section's lines; none for a folder without the canary."""
    timed = samples[samples["kind"] == "timed"] if "kind" in samples.columns else samples
    canary = canary_of(timed).dropna()
    if canary.empty:
        return []
    p10, p50, p90 = np.percentile(canary, [10, 50, 90])
    lines = [
        "## How noisy was this machine",
        "",
        "A short memory-latency pointer chase (the *mood canary*) ran in each case's "
        "process, on its CPU, just before and just after every timed value, after one "
        "untimed lap that brings its buffer back into cache. When neighbours crowd the "
        "caches and memory the machine shares, it slows, and so do the switches. Beside "
        "it, the *CPU share*: how much of each value's wall time the case's process was "
        "on a CPU; where a case keeps one CPU busy, what is missing was taken by other "
        "tasks or by the hypervisor. Each case's values were regressed on both on a log "
        "scale (the share only where the case keeps one CPU busy and the share moved; "
        "over all its worker processes: the mood moves over seconds, and so sets the "
        "levels the processes settle at) and moved to the case's own medians, so that the "
        "adjustment takes out how the machine's mood moved during the case and moves no "
        "case to a level it never ran at; the adjusted median's CI re-fits the slopes in "
        "every bootstrap draw, from the same draws as the raw CI. Each slope is held to "
        "its side of 0 (at or above for the canary, at or below for the share): a "
        "busier memory hierarchy or less of the CPU can only slow a switch.",
        "",
        *images(figures.get("mood", []), "the mood canary over the run"),
        f"Its spread over the run's {len(canary):,} values: 10th percentile "
        f"{ns(float(p10))}, median {ns(float(p50))}, 90th percentile {ns(float(p90))} per "
        f"load ({p90 / p10:.2f}× from the 10th to the 90th). The untimed lap puts back "
        "what the case evicted, but a case still leaves the caches and the CPU as it "
        "leaves them: read the canary's movement within a case, not its level across "
        "cases.",
        "",
        "The adjusted figure is the headline only where the fit explains at least "
        f"R² {MIN_CANARY_R2} of a case's variance, the adjusted CI is narrower than the "
        "raw one (both from the same bootstrap draws), and the CI rests on 4 processes or "
        "more; elsewhere the raw figure stays "
        "the headline, with the reason. The case tables above show the raw figures "
        "throughout. *raw ÷ adjusted CI* is how many times narrower the adjusted CI is "
        "(below 1: wider, as when the fit's own uncertainty outweighs what it explains).",
        "",
        *([line, ""] if (line := precision_line(summary, run or {})) else []),
        "| case | canary (median) | CPU share (median) | R² | slopes (95% CI) | raw median, "
        "CI | adjusted median, CI | raw ÷ adjusted CI | headline |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    measured = summary[(summary["status"] == "ok") & summary["canary_ns"].notna()]
    lines += [_case_row(row) for _, row in measured.iterrows()]
    return [*lines, ""]
