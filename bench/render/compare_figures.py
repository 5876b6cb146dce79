"""Result folders (RunData) → compare's figures.

Ns per switch, ratios, sweeps and memory, one line per run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from bench.analysis.comparison import (
    RunData,
    point_cases,
    runs_without,
    sweep_rows,
)
from bench.render.axes import (
    human_axis,
    legend_above,
    memory_axes,
    note_below,
    ns_label,
    ratio_label,
    sweep_axes,
)
from bench.render.plot import plt
from bench.render.plot import save as save_figure
from bench.results import read

# One run's curves for an overlay: (x, y, matplotlib style, what the curve is).
Curves = Iterator[tuple[np.ndarray, np.ndarray, str, str]]

COMPARE_DPI = 110  # the comparison's figures: smaller than the report's


RUN_COLOURS = ("#1b6ca8", "#d1495b", "#edae49", "#66a182", "#8d6a9f", "#2e4057", "#b5651d")


def _ticks_on_top(ax: plt.Axes) -> None:
    """The x axis's tick labels at the top too, for figures taller than a screen."""
    ax.tick_params(axis="x", which="both", top=True, labeltop=True)


def plot_ns(table: pd.DataFrame, runs: list[RunData], out: Path) -> list[Path]:
    """Every case's median and CI, one colour per run, points offset within a case."""
    cases = point_cases(table, runs)
    if not cases:
        return []
    fig, ax = plt.subplots(figsize=(8.5, 1.6 + 0.38 * len(cases)))
    step = 0.7 / max(len(runs), 1)
    for i, run in enumerate(runs):
        mine = table[(table["run"] == i) & (table["status"] == "ok")].set_index("case")
        ys, xs, lo, hi = [], [], [], []
        for y, case in enumerate(cases):
            if case in mine.index:
                r = mine.loc[case]
                ys.append(y - 0.35 + step * (i + 0.5))
                xs.append(r["ns_per_switch"])
                lo.append(
                    max(r["ns_per_switch"] - r["ci_low"], 0) if r["ci_low"] == r["ci_low"] else 0
                )
                hi.append(
                    max(r["ci_high"] - r["ns_per_switch"], 0) if r["ci_high"] == r["ci_high"] else 0
                )
        ax.errorbar(
            xs,
            ys,
            xerr=[lo, hi],
            fmt="o",
            color=RUN_COLOURS[i % len(RUN_COLOURS)],
            ecolor="black",
            capsize=3,
            markersize=6,
            markeredgecolor="black",
            label=run.label,
        )
    ax.set_yticks(range(len(cases)), cases, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    human_axis(ax.xaxis, ns_label)
    ax.set_xlabel("time per switch (median, 95% CI; log scale)")
    _ticks_on_top(ax)
    ax.grid(axis="x", which="both", alpha=0.3)
    legend_above(
        ax, "Each case on each machine: time per switch, median and 95% CI", ncol=min(len(runs), 4)
    )
    return save_figure(fig, out, "compare_ns_per_switch", dpi=COMPARE_DPI)


def plot_ratio(
    table: pd.DataFrame, runs: list[RunData], out: Path, noise_band: float
) -> list[Path]:
    """Bars of each run's ratio to the first, from 1, with the ratio's CI."""
    cases = point_cases(table, runs)
    rated = table[table["ratio_to_first"].notna() & table["case"].isin(cases)]
    if rated.empty:
        return []
    cases = [c for c in cases if c in set(rated["case"])]
    others = len(runs) - 1
    height = 0.8 / max(others, 1)
    fig, ax = plt.subplots(figsize=(8.5, 1.6 + 0.3 * len(cases) * max(others, 1) ** 0.5))
    for i in range(1, len(runs)):
        mine = rated[rated["run"] == i].set_index("case")
        for y, case in enumerate(cases):
            if case not in mine.index:
                continue
            r = mine.loc[case]
            pos = y - 0.4 + height * (i - 0.5)
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            ax.barh(
                pos,
                r["ratio_to_first"] - 1,
                left=1,
                height=height * 0.9,
                color=colour,
                alpha=1.0 if r["significant"] is True else 0.35,
                edgecolor="black",
                linewidth=0.5,
                label=runs[i].label if y == 0 or case == cases[0] else None,
            )
            if r["ratio_ci_low"] == r["ratio_ci_low"]:
                ax.plot([r["ratio_ci_low"], r["ratio_ci_high"]], [pos, pos], color="black", lw=1)
    ax.axvline(1, color="black", lw=1)
    ax.axvspan(1 / (1 + noise_band), 1 + noise_band, color="grey", alpha=0.15, lw=0)
    ax.set_xscale("log", base=2)
    human_axis(ax.xaxis, ratio_label)
    ax.set_yticks(range(len(cases)), cases, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"median ÷ {runs[0].label}'s (log scale; the line is the 95% CI)")
    _ticks_on_top(ax)
    ax.grid(axis="x", which="both", alpha=0.3)
    legend_above(
        ax,
        "Slower (right) or faster (left) than the first run; faint = not significant",
        ncol=min(others, 4),
    )
    return save_figure(fig, out, "compare_ratio", dpi=COMPARE_DPI)


def _note_runs_without(ax: plt.Axes, runs: list[RunData], what: str) -> None:
    missing = runs_without(runs, what)
    if missing:
        note_below(ax, "no data: " + ", ".join(missing))


def _overlay(ax: plt.Axes, runs: list[RunData], curves: Callable[[RunData], Curves]) -> bool:
    """Each run's curves on one axes, a colour per run; False when no run had any."""
    drawn = False
    for i, run in enumerate(runs):
        for x, y, style, what in curves(run):
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            ax.plot(x, y, style, color=colour, label=f"{run.label}: {what}")
            drawn = True
    return drawn


def plot_sweep(table: pd.DataFrame, runs: list[RunData], sweep: str, out: Path) -> list[Path]:
    def curves(run: RunData) -> Curves:
        rows = sweep_rows(run, sweep)
        for lang, style, what in (("go", "o-", "goroutines"), ("c", "s--", "threads")):
            mine = rows[rows["case"].str.startswith(f"{lang}.")].sort_values("sweep_x")
            if not mine.empty:
                x = mine["sweep_x"].to_numpy(dtype=float) / (1024 if sweep == "ring" else 1)
                yield x, mine["ns_per_switch"].to_numpy(dtype=float), style, what

    fig, ax = plt.subplots(figsize=(7, 4.2))
    if not _overlay(ax, runs, curves):
        plt.close(fig)
        return []
    sweep_axes(ax, sweep)
    ax.set_ylabel("time per switch (median)")
    ax.set_title(f"The {sweep} sweep on each machine")
    ax.legend(fontsize=7)
    _note_runs_without(ax, runs, sweep)
    return save_figure(fig, out, f"compare_sweep_{sweep}", dpi=COMPARE_DPI)


def plot_memory(runs: list[RunData], out: Path) -> list[Path]:
    def curves(run: RunData) -> Curves:
        for kind, style in (("goroutine", "o-"), ("thread", "s--")):
            rows = read.memory_curve(run.memory, kind)
            if not rows.empty:
                x = rows["created"].to_numpy(dtype=float)
                yield x, rows["rss_bytes_per_unit"].to_numpy(dtype=float), style, kind

    fig, ax = plt.subplots(figsize=(7, 4.2))
    if not _overlay(ax, runs, curves):
        plt.close(fig)
        return []
    memory_axes(ax, "resident bytes per unit")
    ax.set_title("Memory per goroutine and per thread on each machine")
    ax.legend(fontsize=7)
    _note_runs_without(ax, runs, "memory")
    return save_figure(fig, out, "compare_memory", dpi=COMPARE_DPI)
