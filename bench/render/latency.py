"""latency.csv and latency_hist.csv (one folder or several) → the tail's tables and CDFs.

The report's section (section_lines, plot_cdf) and the comparison's (compare_lines,
plot_compare_cdf). Every figure is read from the folder; nothing here measures.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from bench.analysis.latency import cdf_points
from bench.render.axes import human_axis, ns_label
from bench.render.fmt import ci_range, code, md, missing, ns, number
from bench.render.plot import LANG_COLOURS, images, plt, save
from bench.results import read

FIGURE_STEM = "latency_cdf"
COMPARE_FIGURE_STEM = "compare_latency_cdf"
TITLE = "## The tail: single hand-offs"
# Line styles that tell the cases apart on one figure; within a language, colours too
# (goroutines in blues, threads and processes in reds and browns).
STYLES = ("-", "--", ":", "-.")
MARKERS = ("", "o", "s", "^")  # beside the styles, once they repeat
SHADES = {
    "go": ("#00add8", "#0b5394", "#6fa8dc"),
    "c": ("#d1495b", "#8b1e3f", "#edae49", "#b5651d", "#e07a5f", "#6d2e46"),
}


def _with_ci(row: pd.Series, name: str) -> str:
    value = number(row.get(f"{name}_ns"))
    if missing(value):
        return "—"
    bounds = ci_range(number(row.get(f"{name}_ci_low")), number(row.get(f"{name}_ci_high")))
    return ns(value) if bounds == "—" else f"{ns(value)} ({bounds})"


def _runtime_cell(row: pd.Series) -> str:
    if str(row.get("lang")) != "go":
        return "—"
    p50, p99 = number(row.get("runtime_p50_ns")), number(row.get("runtime_p99_ns"))
    if missing(p50) and missing(p99):
        return f"unavailable: {md(row.get('runtime_note'))}"
    events = number(row.get("runtime_events"))
    count = "" if missing(events) else f" ({events:,.0f} events)"
    return f"≤ {ns(p50)} / ≤ {ns(p99)}{count}"


def _percentile_cells(row: pd.Series) -> list[str]:
    """p50 (CI), p90, p99 (CI), p99.9, p99.99, max and one clock read: the cells the
    report's table and compare's share."""
    return [
        _with_ci(row, "p50"),
        ns(number(row.get("p90_ns"))),
        _with_ci(row, "p99"),
        ns(number(row.get("p99_9_ns"))),
        ns(number(row.get("p99_99_ns"))),
        ns(number(row.get("max_ns"))),
        ns(number(row.get("clock_ns"))),
    ]


def _table(latency: pd.DataFrame) -> list[str]:
    lines = [
        "| case | hand-offs (runs) | p50 (95% CI) | p90 | p99 (95% CI) | p99.9 | p99.99 | max "
        "| one clock read | Go runtime p50 / p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for _, row in latency.iterrows():
        if row.get("status") != "ok":
            lines.append(
                f"| {code(row.get('case'))} | {md(row.get('status'))}: {md(row.get('reason'))} "
                "| | | | | | | | |"
            )
            continue
        handoffs, runs = number(row.get("handoffs")), number(row.get("runs"))
        count = "—" if missing(handoffs) else f"{handoffs:,.0f}"
        count += "" if missing(runs) else f" ({runs:.0f})"
        cells = [code(row.get("case")), count, *_percentile_cells(row), _runtime_cell(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _clock_costs(latency: pd.DataFrame) -> dict[str, float]:
    """Each language's clock cost: the median of its rows' medians of back-to-back reads."""
    out = {}
    for lang, rows in latency[latency["status"] == "ok"].groupby("lang"):
        values = [number(v) for v in rows["clock_ns"]]
        values = [v for v in values if not missing(v)]
        if values:
            out[str(lang)] = float(pd.Series(values).median())
    return out


def _method(latency: pd.DataFrame) -> list[str]:
    clocks = {
        str(row["lang"]): md(row["clock"])
        for _, row in latency.iterrows()
        if isinstance(row.get("clock"), str)
    }
    costs = _clock_costs(latency)
    said = "; ".join(
        f"{lang.upper() if lang == 'c' else 'Go'}: {clocks.get(lang, '—')}, one read "
        f"{ns(costs.get(lang, math.nan))}"
        for lang in ("c", "go")
        if lang in clocks
    )
    wall = pd.to_numeric(latency["wall_s"], errors="coerce").sum()
    return [
        "Each row times every hand-off of a two-sided ping-pong on its own, outside the "
        "throughput cases (a separate code path): the giver reads the clock just before it "
        "hands off, the woken side as soon as its wait returns, and the difference is that "
        "hand-off's latency, kept in memory allocated before the first hand-off. So each "
        "latency holds the wake-up, the switch to the woken side and one clock read. "
        f"Clocks ({said}; one read = the median of back-to-back pairs, marked on the figure). "
        "The 95% CIs resample runs (C: fresh threads or processes; Go: driver processes), "
        "then hand-offs within them, at 0.5% resolution. The Go runtime's column is its own "
        "/sched/latencies:seconds histogram over the same region: the time a goroutine "
        "waited runnable, for the share of events the runtime samples, each percentile the "
        f"upper boundary of its bucket. The step took {wall:.1f} s.",
        "",
    ]


def section_lines(
    latency: pd.DataFrame | None, figures: list[Path], asked: bool = False
) -> list[str]:
    """The report's tail section; one line when the run asked for it and has no
    latency.csv; nothing when it did not ask."""
    if latency is None or latency.empty:
        if asked:
            return [TITLE, "", "This run did not finish the latency step (no latency.csv).", ""]
        return []
    lines = [TITLE, "", *_method(latency), *_table(latency), ""]
    lines += images(figures, "CDF of single hand-off latencies")
    return lines


def _draw_cdfs(ax: plt.Axes, hist: pd.DataFrame, langs: dict[str, str], **style: object) -> int:
    """One CDF line per case of the histogram; how many were drawn."""
    drawn, seen = 0, {"go": 0, "c": 0}
    for case, bins in hist.groupby("case", sort=False):
        x, y = cdf_points(bins)
        if not len(x):
            continue
        lang = langs.get(str(case), "c")
        index = seen.get(lang, 0)
        seen[lang] = index + 1
        ax.step(
            x,
            y,
            where="post",
            linestyle=style.get("linestyle", STYLES[index % len(STYLES)]),
            color=style.get("color", _shade(lang, index)),
            marker=style.get("marker", ""),
            markevery=0.08,
            markersize=3,
            label=f"{style.get('prefix', '')}{case}",
        )
        drawn += 1
    return drawn


def _shade(lang: str, index: int) -> str:
    shades = SHADES.get(lang, ("grey",))
    return shades[index % len(shades)]


def _mark_clocks(ax: plt.Axes, latency: pd.DataFrame) -> None:
    """A vertical line at each language's clock read; one label where they coincide."""
    at: dict[float, list[str]] = {}
    for lang, cost in _clock_costs(latency).items():
        at.setdefault(cost, []).append("C" if lang == "c" else "Go")
        ax.axvline(cost, color=LANG_COLOURS.get(lang, "grey"), linewidth=0.8, alpha=0.6)
    for cost, names in at.items():
        ax.annotate(
            f"one {' and '.join(names)} clock read",
            (cost, 0.5),
            fontsize=7,
            rotation=90,
            va="center",
            ha="right",
        )


def _finish(ax: plt.Axes, title: str) -> None:
    ax.set_xscale("log")
    human_axis(ax.xaxis, ns_label)
    ax.set_xlabel("latency of one hand-off (log scale)")
    ax.set_ylabel("share of hand-offs at or below")
    ax.set_ylim(0, 1.01)
    ax.set_title(title)
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")


def _langs(latency: pd.DataFrame | None) -> dict[str, str]:
    if latency is None:
        return {}
    return {str(c): str(lang) for c, lang in zip(latency["case"], latency["lang"], strict=False)}


def plot_cdf(folder: Path, latency: pd.DataFrame | None, hist: pd.DataFrame | None) -> list[Path]:
    """latency_cdf.png/.svg: every case's CDF on one log-x plot, goroutines (blue)
    against threads (red), the clock reads marked; [] without data."""
    if latency is None or hist is None or hist.empty:
        return []
    fig, ax = plt.subplots(figsize=(8, 4.8))
    if not _draw_cdfs(ax, hist, _langs(latency)):
        plt.close(fig)
        return []
    _mark_clocks(ax, latency)
    _finish(ax, "Single hand-offs: goroutines (blue) against threads and processes (red)")
    return save(fig, folder, FIGURE_STEM)


# ---- compare ---------------------------------------------------------------------


def _load(folder: Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    return read.load_latency(folder), read.load_latency_hist(folder)


def compare_lines(labels: list[str], folders: list[Path], figures: list[Path]) -> list[str]:
    """compare.md's tail section: each case's percentiles in every run that has
    latency.csv, side by side; nothing when none has."""
    loaded = [(label, _load(folder)[0]) for label, folder in zip(labels, folders, strict=True)]
    have = [(label, table) for label, table in loaded if table is not None and not table.empty]
    if not have:
        return []
    lines = [
        "## The tail, side by side",
        "",
        "Single hand-offs timed one by one (each run's latency.csv; its report says how).",
        "",
        "| case | run | p50 (95% CI) | p90 | p99 (95% CI) | p99.9 | p99.99 | max "
        "| one clock read |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cases = list(dict.fromkeys(c for _, table in have for c in table["case"]))
    for case in cases:
        for label, table in have:
            rows = table[table["case"] == case]
            if rows.empty:
                continue
            row = rows.iloc[0]
            if row.get("status") != "ok":
                lines.append(
                    f"| {code(case)} | {md(label)} | {md(row.get('status'))}: "
                    f"{md(row.get('reason'))} | | | | | | |"
                )
                continue
            cells = _percentile_cells(row)
            lines.append(f"| {code(case)} | {md(label)} | " + " | ".join(cells) + " |")
    without = [label for label, table in loaded if table is None or table.empty]
    lines.append("")
    if without:
        lines += [f"No latency.csv in {', '.join(md(w) for w in without)}.", ""]
    return lines + images(figures, "CDFs of single hand-off latencies, overlaid")


def plot_compare_cdf(labels: list[str], folders: list[Path], out: Path) -> list[Path]:
    """compare_latency_cdf.png/.svg: every run's CDFs on one plot, a colour per run and
    a line style per case; [] when no run has latency_hist.csv."""
    colours = ("#1b6ca8", "#d1495b", "#edae49", "#66a182", "#8d6a9f", "#2e4057")
    fig, ax = plt.subplots(figsize=(8, 5))
    drawn = 0
    for i, (label, folder) in enumerate(zip(labels, folders, strict=True)):
        latency, hist = _load(folder)
        if latency is None or hist is None or hist.empty:
            continue
        for j, (_case, bins) in enumerate(hist.groupby("case", sort=False)):
            drawn += _draw_cdfs(
                ax,
                bins,
                _langs(latency),
                color=colours[i % len(colours)],
                linestyle=STYLES[j % len(STYLES)],
                marker=MARKERS[(j // len(STYLES)) % len(MARKERS)],
                prefix=f"{label}: ",
            )
    if not drawn:
        plt.close(fig)
        return []
    _finish(ax, "Single hand-offs on each machine (a colour per run, a style per case)")
    return save(fig, out, COMPARE_FIGURE_STEM, dpi=110)
