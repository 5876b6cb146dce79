"""The ladder (bench.analysis.ladder) → its report section, its figure, compare's side by side."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from bench.analysis.ladder import Rung, ladder
from bench.analysis.stats import within_processes
from bench.render.axes import human_axis, ns_label
from bench.render.fmt import code, md, ns
from bench.render.plot import LANG_COLOURS, images, plt
from bench.render.plot import save as save_figure

FIGURE_STEM = "ladder"
COMPARE_STEM = "compare_ladder"

_METHOD = (
    "Each rung adds one mechanism to the case in *over*: the rung below, or where a case "
    "differs from it in that mechanism alone, that case. *Extra cost* is the difference of "
    "the two medians; its range is the widest difference the two 95% CIs allow (one's low "
    "minus the other's high), which holds the true difference whenever both CIs hold, so at "
    "least 90% of the time. A negative extra cost is shown as measured and flagged. The "
    "placement rungs pin the same futex hand-off to CPUs chosen from the machine's sysfs "
    "topology, and are skipped where it has no such pair."
)


def _figure(r: Rung) -> str:
    if not r.measured:
        return "—"
    per = "" if r.unit == "switch" else f" per {md(r.unit)}"
    ci = ""
    if not (math.isnan(r.ci_low) or math.isnan(r.ci_high)):
        scope = within_processes(r.processes)
        ci = f" ({ns(r.ci_low)} – {ns(r.ci_high)}{', ' + scope if scope else ''})"
    return f"{ns(r.ns)}{per}{ci}"


def _signed(value: float) -> str:
    return f"−{ns(-value)}" if value < 0 else f"+{ns(value)}"


def _extra(r: Rung) -> str:
    if r.extra_why:
        return md(r.extra_why) if r.measured else "—"
    widest = ""
    if not (math.isnan(r.extra_low) or math.isnan(r.extra_high)):
        widest = f" ({_signed(r.extra_low)} to {_signed(r.extra_high)})"
    flag = " **negative: cheaper than its base here**" if r.negative else ""
    return f"{_signed(r.extra_ns)}{widest}{flag}"


def _status(r: Rung) -> str:
    if r.measured:
        return ""
    if r.status == "absent":
        return "not in this run"
    return f"*{md(r.status)}*" + (f": {md(r.reason)}" if r.reason else "")


def section_lines(summary: pd.DataFrame, figures: dict[str, list[Path]]) -> list[str]:
    """The ladder's section: table, figure and method; nothing for a run of no case."""
    if summary.empty:
        return []
    rungs = ladder(summary)
    lines = [
        "## The ladder: what each mechanism adds",
        "",
        _METHOD,
        "",
        "| rung | mechanism it adds | case | over | ns per switch (95% CI) | extra cost "
        "(widest range) | not measured |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, r in enumerate(rungs, 1):
        over = code(r.spec.base) if r.spec.base else "—"
        lines.append(
            f"| {number} | {md(r.spec.mechanism)} | {code(r.spec.case)} | {over} | "
            f"{_figure(r)} | {_extra(r)} | {_status(r)} |"
        )
    lines += ["", *images(figures.get("ladder", []), "the ladder")]
    return lines


def plot(summary: pd.DataFrame, folder: Path) -> list[Path]:
    """Horizontal bars on a log scale, one per rung, the floor at the top; a rung
    without a figure keeps its row, labelled with why."""
    rungs = ladder(summary)
    if summary.empty or not any(r.measured for r in rungs):
        return []
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(rungs) + 1.2))
    ys = list(range(len(rungs)))[::-1]
    floor = min(r.ns for r in rungs if r.measured)
    for y, r in zip(ys, rungs, strict=True):
        if r.measured:
            colour = LANG_COLOURS.get(r.spec.case.split(".")[0], "grey")
            err = None
            if not (math.isnan(r.ci_low) or math.isnan(r.ci_high)):
                err = [[r.ns - r.ci_low], [r.ci_high - r.ns]]
            ax.barh(y, r.ns, color=colour, xerr=err, capsize=2)
        else:
            ax.text(floor, y, f"  {r.status}", va="center", fontsize=8, color="grey")
    ax.set_yticks(ys, [r.spec.case for r in rungs], fontsize=8)
    ax.set_ylim(-0.6, len(rungs) - 0.4)
    ax.set_xscale("log")
    human_axis(ax.xaxis, ns_label)
    ax.set_xlabel("ns per switch (per call for the null system call), log scale")
    ax.set_title("The ladder: each rung adds one mechanism")
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, folder, FIGURE_STEM)


# ---- compare ---------------------------------------------------------------------


def compare_lines(
    labels: list[str], summaries: list[pd.DataFrame], figure: list[Path]
) -> list[str]:
    """The ladder of every run side by side: each rung's figure and extra cost."""
    ladders = [ladder(s) for s in summaries]
    if not any(r.measured for rungs in ladders for r in rungs):
        return []
    head = " | ".join(f"{md(label)}: ns (extra)" for label in labels)
    lines = [
        "## The ladder on each machine",
        "",
        "Each rung's median and its extra cost over the case in *over* (the difference of "
        "the two medians), per run; a dash where the run did not measure it.",
        "",
        f"| rung | case | over | {head} |",
        "|---|---|---|" + "---|" * len(labels),
    ]
    for number, per_run in enumerate(zip(*ladders, strict=True), 1):
        spec = per_run[0].spec
        cells = []
        for r in per_run:
            if not r.measured:
                cells.append(_status(r) or "—")
            elif r.extra_why:
                cells.append(ns(r.ns))
            else:
                cells.append(f"{ns(r.ns)} ({_signed(r.extra_ns)})")
        lines.append(
            f"| {number} | {code(spec.case)} | {code(spec.base) if spec.base else '—'} | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", *images(figure, "the ladder on each machine")]
    return lines


def plot_compare(labels: list[str], summaries: list[pd.DataFrame], folder: Path) -> list[Path]:
    """Every run's rungs overlaid: grouped horizontal bars, log scale."""
    ladders = [ladder(s) for s in summaries]
    if not any(r.measured for rungs in ladders for r in rungs):
        return []
    count = len(ladders[0])
    height = 0.8 / max(len(ladders), 1)
    fig, ax = plt.subplots(figsize=(9, 0.5 * count * max(1, len(ladders) / 2) + 1.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (label, rungs) in enumerate(zip(labels, ladders, strict=True)):
        # The first run on top of each group; a rung a run did not measure has no bar
        # (a log axis has no zero).
        shown = [(count - 1 - i + 0.4 - height * (k + 0.5), r.ns) for i, r in enumerate(rungs)]
        shown = [(y, v) for (y, v), r in zip(shown, rungs, strict=True) if r.measured]
        ax.barh(
            [y for y, _ in shown],
            [v for _, v in shown],
            height=height,
            color=colours[k % len(colours)],
            label=label,
        )
    ax.set_yticks(list(range(count))[::-1], [r.spec.case for r in ladders[0]], fontsize=8)
    ax.set_xscale("log")
    human_axis(ax.xaxis, ns_label)
    ax.set_xlabel("ns per switch (per call for the null system call), log scale")
    ax.set_title("The ladder on each machine")
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, folder, COMPARE_STEM)
