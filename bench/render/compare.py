"""Result folders (one per machine, kernel, Go release...) -> compare.csv,
compare.md, compare.html and figures, each run set against the first.

Per case: every run's median and 95% CI (from its summary.csv); the ratio of
its median to the first run's, with a bootstrap CI drawn from both runs'
samples; and a verdict. A difference is called *significant* only when that
CI excludes 1 *and* the ratio is outside the noise band (±NOISE_BAND): two
runs of one shared VM a few minutes apart differ by more than their own CIs
(the machine drifts between runs, which no within-run CI can see), so CI-only
significance would flag many cases of two identical machines.

Normalised views travel between machines: cost in cycles (ns times the clock
rate: from the cycles counter where the machine has one, else the clock rate
measured at the start of the run, else the one the kernel reports), and cost
as a multiple of the same run's null system call and of its go.chan.p1.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.analysis.stats import (
    MIN_PROCESSES_FOR_CI,
    bootstrap_medians,
    percentile_ci,
    within_processes,
)
from bench.catalogue.cases import GOROUTINE_CASE, SYSCALL_CASE, THREAD_CASE
from bench.errors import UsageError
from bench.render import html
from bench.render.axes import (
    bytes_label,
    count_label,
    human_axis,
    legend_above,
    note_below,
    ns_label,
    ratio_label,
)
from bench.render.fmt import code, kib, md, ns, num, visible
from bench.render.plot import images, plt
from bench.render.plot import save as save_figure
from bench.results import read
from bench.results.schema import COMPARE_COLUMNS, COMPARE_CSV
from bench.results.write import atomic_write, write_csv

# Two back-to-back default runs of the development VM differ by about this much in a
# typical case (switchbench selfbench measures it on any machine): a smaller band
# would call differences of one machine from itself significant.
NOISE_BAND = 0.10
COMPARE_DPI = 110  # the comparison's figures: smaller than the report's
RUN_COLOURS = ("#1b6ca8", "#d1495b", "#edae49", "#66a182", "#8d6a9f", "#2e4057", "#b5651d")


@dataclass(frozen=True)
class RunData:
    """One result folder, read and checked."""

    label: str
    folder: Path
    host: dict[str, Any]
    run: dict[str, Any]
    summary: pd.DataFrame
    samples: pd.DataFrame
    memory: pd.DataFrame

    def ok_row(self, case: str) -> pd.Series | None:
        rows = self.summary[(self.summary["case"] == case) & (self.summary["status"] == "ok")]
        return None if rows.empty else rows.iloc[0]

    def median(self, case: str) -> float:
        row = self.ok_row(case)
        return math.nan if row is None else float(row["ns_per_switch"])


def load_runs(folders: list[Path]) -> list[RunData]:
    runs = []
    labels: set[str] = set()
    for i, path in enumerate(folders):
        data = read.load(path)
        # The folder's name, with invisible characters written out (it labels figures).
        label = visible(path.resolve().name, backslash="\\") or f"run{i + 1}"
        if label in labels:  # two folders of one name (e.g. a/reference, b/reference)
            label = f"{label} ({i + 1})"
        labels.add(label)
        runs.append(
            RunData(label, path, data.host, data.run, data.summary, data.samples, data.memory)
        )
    return runs


def ratio_ci(
    a: np.ndarray,
    b: np.ndarray,
    groups_a: np.ndarray | None = None,
    groups_b: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[float, float, float]:
    """median(b) / median(a) and its bootstrap CI: each run resampled on its own, by
    worker process and value within it when groups are given (bench.analysis.summary says why).
    The CI is NaN when either run has fewer than 3 samples."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ratio = float(np.median(b) / np.median(a))
    if len(a) < 3 or len(b) < 3:
        return ratio, math.nan, math.nan
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return ratio, ratio, ratio
    resampled = bootstrap_medians(b, groups_b, seed + 1) / bootstrap_medians(a, groups_a, seed)
    return ratio, *percentile_ci(ratio, resampled)


def verdict(
    ratio: float, low: float, high: float, noise_band: float = NOISE_BAND, within: str = ""
) -> tuple[bool | None, str]:
    """(significant, words): significant when the CI excludes 1 and the ratio is
    outside the noise band; None when there is no CI to judge by. within: the words of
    analyse.within_processes for the run with fewer processes, when either run's CI
    rests on fewer than analyse.MIN_PROCESSES_FOR_CI of them."""
    if math.isnan(low) or math.isnan(high):
        return None, "no CI (too few samples)"
    outside_band = ratio > 1 + noise_band or ratio < 1 / (1 + noise_band)
    differs = (low > 1 or high < 1) and outside_band
    if within and differs:
        # The ratio's CI is then built from one or two processes on that side: it sees
        # how values scatter inside them, not how processes differ, and a process (so a
        # quick run) can land far from the last one (287-291 ns, then 176 ns). The noise
        # band is sized for medians over many processes, so it does not cover that
        # either. The direction is shown, but the difference is not judged: None, as
        # when there is no CI at all. A CI that honestly held the spread between
        # processes would be wider, so "same within noise" stays a fair call (below).
        return None, f"looks {'slower' if ratio > 1 else 'faster'} (CI {within}: not judged)"
    if differs:
        return True, "slower" if ratio > 1 else "faster"
    return False, "same within noise"


def _positive(value: object) -> float:
    """value as a float if it is a finite positive number (of any numeric type), else NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return math.nan
    x = float(value)
    return x if math.isfinite(x) and x > 0 else math.nan


def clock_ghz(run: RunData, row: pd.Series | None = None) -> tuple[float, str]:
    """The clock rate to turn this run's ns into cycles, and where it came from: with a
    case's summary row, the cycles its counted runs ran per ns of task-clock, where
    the machine has a cycles counter; else the run's measured or reported clock."""
    if row is not None:
        cycles = _positive(row.get("cycles_per_switch"))
        task_ns = _positive(row.get("task_clock_ns_per_switch"))
        if math.isfinite(cycles / task_ns):
            return cycles / task_ns, "cycles counter"
    measured = (run.host.get("clock") or {}).get("ghz")
    if isinstance(measured, int | float) and math.isfinite(measured) and measured > 0:
        return float(measured), "measured clock"
    reported = run.host.get("cpu_mhz_reported")
    if isinstance(reported, int | float) and math.isfinite(reported) and reported > 0:
        return reported / 1000, "reported MHz"
    return math.nan, "unavailable"


def compare(runs: list[RunData], noise_band: float = NOISE_BAND) -> pd.DataFrame:
    """One row per case and run, in the first run's case order, then the others'."""
    order: list[str] = []
    for run in runs:
        order += [c for c in run.summary["case"].astype(str) if c not in order]
    first = runs[0]
    rows = []
    for case in order:
        base_samples = first.samples[first.samples["case"] == case]
        base_ok = first.ok_row(case) is not None and len(base_samples) > 0
        for i, run in enumerate(runs):
            row: dict[str, Any] = {"case": case, "run": i, "label": run.label}
            listed = run.summary[run.summary["case"] == case]
            if listed.empty:
                row.update(status="absent", verdict="not in this run")
                rows.append(row)
                continue
            summary_row = listed.iloc[0]
            row["status"] = str(summary_row["status"])
            if summary_row["status"] != "ok":
                row["verdict"] = f"not measured: {summary_row['status']}"
                rows.append(row)
                continue
            median = float(summary_row["ns_per_switch"])
            ghz, source = clock_ghz(run, summary_row)
            row.update(
                ns_per_switch=median,
                ci_low=summary_row["ci_low"],
                ci_high=summary_row["ci_high"],
                cycles_per_switch=median * ghz,
                cycles_source=source,
                x_null_syscall=median / run.median(SYSCALL_CASE),
                x_go_chan_p1=median / run.median(GOROUTINE_CASE),
            )
            mine = run.samples[run.samples["case"] == case]
            if i == 0:
                row["verdict"] = "baseline"
            elif not base_ok or mine.empty:
                row["verdict"] = "no baseline in the first run"
            else:
                ratio, low, high = ratio_ci(
                    base_samples["ns_per_switch"].to_numpy(),
                    mine["ns_per_switch"].to_numpy(),
                    base_samples["process"].to_numpy(),
                    mine["process"].to_numpy(),
                )
                base_row = first.ok_row(case)
                fewest = min(
                    float(summary_row["processes"]),
                    math.inf if base_row is None else float(base_row["processes"]),
                )
                significant, words = verdict(ratio, low, high, noise_band, within_processes(fewest))
                row.update(
                    ratio_to_first=ratio,
                    ratio_ci_low=low,
                    ratio_ci_high=high,
                    significant=significant,
                    verdict=words,
                )
            rows.append(row)
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


# ---- the metadata diff ----------------------------------------------------------


def mitigation_summary(host: dict[str, Any]) -> str | None:
    mitigations = host.get("mitigations")
    if not isinstance(mitigations, dict):
        return None
    states = mitigations.get("vulnerabilities") or {}
    vulnerable = sorted(k for k, v in states.items() if str(v).startswith("Vulnerable"))
    mitigated = sorted(k for k, v in states.items() if str(v).startswith("Mitigation"))
    text = f"boot option {mitigations.get('boot_option') or 'none'}; "
    text += f"{len(mitigated)} mitigated"
    if vulnerable:
        text += f", vulnerable: {', '.join(vulnerable)}"
    return text


def host_facts(run: RunData) -> dict[str, object]:
    h = run.host
    virt = h.get("virtualisation") or {}
    versions = h.get("versions") or {}
    smt = (h.get("smt") or {}).get("active") if isinstance(h.get("smt"), dict) else None
    stack = (h.get("ulimit_s") or {}).get("soft_bytes")
    counters = h.get("counters") or {}
    cycles = counters.get("cycles") if isinstance(counters, dict) else None
    ghz, source = run_clock_ghz(run)
    return {
        "CPU": h.get("cpu_model"),
        "logical CPUs": h.get("logical_cpus"),
        "physical cores": h.get("physical_cores"),
        "SMT active": smt,
        "caches": h.get("caches"),
        "clock (GHz)": f"{ghz:.2f} ({source})" if math.isfinite(ghz) else None,
        "kernel": h.get("kernel"),
        "OS": h.get("os"),
        "virtualisation": f"vm {virt.get('vm') or 'none seen'}, "
        f"container {virt.get('container') or 'none seen'}",
        "governor": h.get("cpufreq_governor"),
        "mitigations": mitigation_summary(h),
        "hardware counters": (cycles or {}).get("available") if isinstance(cycles, dict) else None,
        "Go": versions.get("go"),
        "gcc": versions.get("gcc"),
        "ulimit -s": f"{stack // 1024} KiB" if isinstance(stack, int) else stack,
        "profile": run.run.get("profile"),
        "switchbench": versions.get("switchbench"),
    }


# A clock rate is measured at the start of each run, and one machine's measurement
# moves a little from run to run (boost, the host's load); the diff calls two rates from
# the same source different only beyond this share.
CLOCK_SAME_WITHIN = 0.05


def run_clock_ghz(run: RunData) -> tuple[float, str]:
    """The clock rate the run's cycles figures rest on, for the table of what differs:
    where the cycles counter gave its cases' rates (the normalised view takes each
    case's own), their median; else the run's measured or reported clock."""
    counted = []
    for _, row in run.summary[run.summary["status"] == "ok"].iterrows():
        ghz, source = clock_ghz(run, row)
        if source == "cycles counter":
            counted.append(ghz)
    if counted:
        return float(np.median(counted)), "cycles counter"
    return clock_ghz(run)


def _clocks_differ(runs: list[RunData]) -> bool:
    rates = [run_clock_ghz(r) for r in runs]
    if len({source for _, source in rates}) > 1:
        return True
    ghz = [g for g, _ in rates if math.isfinite(g)]
    if len(ghz) != len(rates):
        return bool(ghz)  # some runs have a rate, some have none
    return bool(ghz) and max(ghz) > min(ghz) * (1 + CLOCK_SAME_WITHIN)


def metadata_diff(runs: list[RunData]) -> list[tuple[str, list[object], bool]]:
    """(fact, value per run, differs) for each fact of host_facts."""
    facts = [host_facts(r) for r in runs]

    def differs(name: str) -> bool:
        if name == "clock (GHz)":
            return _clocks_differ(runs)
        return len({str(f[name]) for f in facts}) > 1

    return [(name, [f[name] for f in facts], differs(name)) for name in facts[0]]


# ---- figures --------------------------------------------------------------------


def _point_cases(table: pd.DataFrame, runs: list[RunData]) -> list[str]:
    """The measured cases that are not sweep points, in the first run's order."""
    sweeps: set[str] = set()
    for run in runs:
        sweeps |= set(run.summary.loc[run.summary["sweep"].fillna("") != "", "case"])
    ok = table[table["status"] == "ok"]
    return [c for c in dict.fromkeys(ok["case"]) if c not in sweeps]


def _ticks_on_top(ax: plt.Axes) -> None:
    """The x axis's tick labels at the top too, for figures taller than a screen."""
    ax.tick_params(axis="x", which="both", top=True, labeltop=True)


def plot_ns(table: pd.DataFrame, runs: list[RunData], out: Path) -> list[Path]:
    """Every case's median and CI, one colour per run, points offset within a case."""
    cases = _point_cases(table, runs)
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
    cases = _point_cases(table, runs)
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


def _sweep_rows(run: RunData, sweep: str) -> pd.DataFrame:
    s = run.summary
    return s[(s["sweep"].fillna("") == sweep) & (s["status"] == "ok")]


def runs_without(runs: list[RunData], what: str) -> list[str]:
    """The labels of the runs that have no data for an overlay: `what` is a sweep
    ("pairs", "ring": no measured point of it, as in a quick run) or "memory"."""
    if what == "memory":
        kinds = ("goroutine", "thread")
        return [
            r.label for r in runs if all(read.memory_curve(r.memory, kind).empty for kind in kinds)
        ]
    return [r.label for r in runs if _sweep_rows(r, what).empty]


def _note_runs_without(ax: plt.Axes, runs: list[RunData], what: str) -> None:
    missing = runs_without(runs, what)
    if missing:
        note_below(ax, "no data: " + ", ".join(missing))


def plot_sweep(table: pd.DataFrame, runs: list[RunData], sweep: str, out: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    drawn = False
    for i, run in enumerate(runs):
        rows = _sweep_rows(run, sweep)
        for lang, style, what in (("go", "o-", "goroutines"), ("c", "s--", "threads")):
            mine = rows[rows["case"].str.startswith(f"{lang}.")].sort_values("sweep_x")
            if mine.empty:
                continue
            x = mine["sweep_x"].to_numpy(dtype=float) / (1024 if sweep == "ring" else 1)
            ax.plot(
                x,
                mine["ns_per_switch"],
                style,
                color=RUN_COLOURS[i % len(RUN_COLOURS)],
                label=f"{run.label}: {what}",
            )
            drawn = True
    if not drawn:
        plt.close(fig)
        return []
    ax.set_yscale("log")
    human_axis(ax.yaxis, ns_label)
    if sweep == "pairs":
        ax.set_xscale("log", base=2)
        human_axis(ax.xaxis, count_label)
        ax.set_xlabel("independent ping-pong pairs running at once")
    else:
        ax.set_xscale("symlog", base=2, linthresh=16)
        human_axis(ax.xaxis, lambda kib: bytes_label(kib * 1024))
        ax.set_xlabel("working set each context touches per turn")
    ax.set_ylabel("time per switch (median)")
    ax.set_title(f"The {sweep} sweep on each machine")
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=7)
    _note_runs_without(ax, runs, sweep)
    return save_figure(fig, out, f"compare_sweep_{sweep}", dpi=COMPARE_DPI)


def plot_memory(runs: list[RunData], out: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    drawn = False
    for i, run in enumerate(runs):
        mem = run.memory
        for kind, style in (("goroutine", "o-"), ("thread", "s--")):
            rows = read.memory_curve(mem, kind)
            if rows.empty:
                continue
            ax.plot(
                rows["created"],
                rows["rss_bytes_per_unit"],
                style,
                color=RUN_COLOURS[i % len(RUN_COLOURS)],
                label=f"{run.label}: {kind}",
            )
            drawn = True
    if not drawn:
        plt.close(fig)
        return []
    ax.set_xscale("log")
    human_axis(ax.xaxis, count_label)
    ax.set_yscale("log", base=2)
    human_axis(ax.yaxis, bytes_label)
    ax.set_xlabel("units parked at once")
    ax.set_ylabel("resident bytes per unit")
    ax.set_title("Memory per goroutine and per thread on each machine")
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=7)
    _note_runs_without(ax, runs, "memory")
    return save_figure(fig, out, "compare_memory", dpi=COMPARE_DPI)


# ---- compare.md ----------------------------------------------------------------


def _ci_text(low: object, high: object, fmt: Any = ns) -> str:
    if not isinstance(low, float) or math.isnan(low) or not isinstance(high, float):
        return "—"
    return f"{fmt(low)} – {fmt(high)}"


def _ratio(value: float) -> str:
    return "—" if value != value else f"{value:.2f}×"


def _machine_lines(runs: list[RunData]) -> list[str]:
    lines = [
        "| run | goroutine switch | thread switch | thread ÷ goroutine | null system call "
        "| goroutine memory | thread memory |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        go, th, sc = (run.median(c) for c in (GOROUTINE_CASE, THREAD_CASE, SYSCALL_CASE))
        mem = run.memory
        per_kind = {}
        for kind in ("goroutine", "thread"):
            rows = read.memory_curve(mem, kind)
            per_kind[kind] = kib(rows.iloc[-1]["rss_bytes_per_unit"]) if not rows.empty else "—"
        lines.append(
            f"| {md(run.label)} | {ns(go)} | {ns(th)} | {_ratio(th / go)} | {ns(sc)} "
            f"| {per_kind['goroutine']} | {per_kind['thread']} |"
        )
    return lines


def render_markdown(
    runs: list[RunData],
    table: pd.DataFrame,
    figures: dict[str, list[Path]],
    noise_band: float = NOISE_BAND,
) -> str:
    first = runs[0].label
    lines = [
        "# switchbench compare: " + " vs ".join(md(r.label) for r in runs),
        "",
        f"Each run is set against the first, **{md(first)}**. Written "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        "## What differs between the machines",
        "",
        "| | " + " | ".join(md(r.label) for r in runs) + " | differs |",
        "|---|" + "---|" * len(runs) + "---|",
    ]
    for name, values, differs in metadata_diff(runs):
        cells = " | ".join(md(v) for v in values)
        lines.append(f"| {md(name)} | {cells} | {'**yes**' if differs else ''} |")
    lines += ["", "## The answer on each machine", "", *_machine_lines(runs), ""]
    lines += [
        f"Goroutine switch is `{GOROUTINE_CASE}`, thread switch `{THREAD_CASE}`, null system "
        f"call `{SYSCALL_CASE}`; memory is resident bytes per parked unit at the largest "
        "count measured (threads under `ulimit -s` 8 MiB where measured).",
        "",
    ]
    others = range(1, len(runs))
    rated = table[table["run"] > 0]
    if len(runs) > 1:
        counts = []
        for i in others:
            mine = rated[rated["run"] == i]
            sig = mine[mine["significant"] == True]  # noqa: E712 (a column of True/False/None)
            judged = mine["significant"].notna().sum()
            # A ratio with a CI but no judgement rests on a within-process CI (verdict).
            unjudged = int((mine["significant"].isna() & mine["ratio_ci_low"].notna()).sum())
            counts.append(
                f"- {md(runs[i].label)}: {len(sig)} of {judged} cases differ significantly "
                f"({(sig['ratio_to_first'] > 1).sum()} slower, "
                f"{(sig['ratio_to_first'] < 1).sum()} faster)"
                + (
                    f"; {unjudged} more look different, but on a within-process CI: not judged."
                    if unjudged
                    else "."
                )
            )
        lines += ["## Differences", "", *counts, ""]
        lines += [
            "A case differs *significantly* when the 95% bootstrap CI of its median ratio "
            f"excludes 1 and the ratio is beyond the noise band of ±{noise_band:.0%} "
            "(`--noise-band`): a machine drifts between runs by more than a CI from within "
            "one run can see, most on a shared VM, so a CI alone would call many cases of "
            "two runs of one machine different.",
            "",
        ]
        few = [
            within_processes(p)
            for run in runs
            for p in run.summary.loc[
                (run.summary["status"] == "ok") & run.summary["ci_low"].notna(), "processes"
            ]
        ]
        if any(few):
            marks = " or ".join(f"*{w}*" for w in sorted({w for w in few if w}))
            lines += [
                f"A CI marked {marks} rests on fewer than {MIN_PROCESSES_FOR_CI} worker "
                "processes: it covers only how the values scatter inside them, not how "
                "processes differ, and separate runs will differ by more than that interval "
                "(a quick run's one process can land far from the next one's). A ratio "
                "resting on such a CI, on either side, is shown with its direction "
                "(*looks slower*, *looks faster*) but never called significant.",
                "",
            ]
    lines += images(figures["ns"], "ns per switch on each machine")
    lines += images(figures["ratio"], "ratio to the first run")
    header = ["case", f"{md(first)}"]
    for i in others:
        header += [md(runs[i].label), "ratio (95% CI)", "verdict"]
    lines += [
        "## Every case",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (1 + 3 * len(others)),
    ]
    for case, rows in table.groupby("case", sort=False):
        by_run = {int(r["run"]): r for _, r in rows.iterrows()}
        cells = [f"{code(case)}"]
        for i in range(len(runs)):
            r = by_run[i]
            listed = runs[i].ok_row(str(case))
            ci = _ci_text(r["ci_low"], r["ci_high"])
            scope = "" if listed is None or ci == "—" else within_processes(listed["processes"])
            cells.append(
                f"{ns(r['ns_per_switch'])} ({ci}{', ' + scope if scope else ''})"
                if r["status"] == "ok"
                else md(r["verdict"])
            )
            if i == 0:
                continue
            cells.append(
                f"{_ratio(r['ratio_to_first'])} "
                f"({_ci_text(r['ratio_ci_low'], r['ratio_ci_high'], _ratio)})"
                if r["ratio_to_first"] == r["ratio_to_first"]
                else "—"
            )
            cells.append(
                f"**{md(r['verdict'])}**" if r["significant"] is True else md(r["verdict"])
            )
        lines.append("| " + " | ".join(cells) + " |")
    only = table.groupby("case", sort=False)["status"].apply(lambda s: (s == "absent").any())
    if only.any():
        lines += ["", "Cases missing from some runs (listed above as *not in this run*): "]
        lines.append(", ".join(f"{code(c)}" for c in only[only].index) + ".")
    lines += [
        "",
        "## Normalised: what travels between machines",
        "",
        "Cycles are ns per switch times the run's clock rate (from the cycles counter where "
        "the machine has one: each case's counted cycles over its task-clock time, whose "
        "median over the cases the table at the top shows; else the clock rate measured at "
        "the start of the run on a chain of dependent additions, else the one the kernel "
        "reports; the table at the top says which). The multiples divide by the same run's "
        "null system call "
        f"(`{SYSCALL_CASE}`) and by its goroutine switch (`{GOROUTINE_CASE}`).",
        "",
        "| case | "
        + " | ".join(f"{md(r.label)}: cycles · × syscall · × go.chan.p1" for r in runs)
        + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for case in _point_cases(table, runs):
        rows = table[table["case"] == case].set_index("run")
        cells = []
        for i in range(len(runs)):
            r = rows.loc[i]
            cells.append(
                f"{num(r['cycles_per_switch'], 3)} · {num(r['x_null_syscall'], 3)} "
                f"· {num(r['x_go_chan_p1'], 3)}"
                if r["status"] == "ok"
                else "—"
            )
        lines.append(f"| {code(case)} | " + " | ".join(cells) + " |")
    lines.append("")
    for key, title in (
        ("pairs", "Scaling, overlaid"),
        ("ring", "Working set, overlaid"),
        ("memory", "Memory, overlaid"),
    ):
        if figures[key]:
            lines += [f"## {title}", "", *images(figures[key], title)]
            missing = runs_without(runs, key)
            if missing:
                lines += [
                    f"No data for this figure in {', '.join(md(m) for m in missing)}: it "
                    "shows the other runs only.",
                    "",
                ]
    lines += [
        "## Files",
        "",
        "compare.csv holds every figure above, one row per case and run. For pyperf's own "
        "view of the same samples: "
        "`.venv/bin/python -m pyperf compare_to A/suite.json B/suite.json --table`.",
        "",
    ]
    return "\n".join(lines)


# Every file `write_comparison` writes.
FIGURE_STEMS = (
    "compare_ns_per_switch",
    "compare_ratio",
    "compare_sweep_pairs",
    "compare_sweep_ring",
    "compare_memory",
)


def _create_out(out: Path) -> bool:
    """Make the --out folder, or take an existing empty one; True when it was made here.
    A non-empty or symlinked --out is refused: a comparison never overwrites files."""
    if out.is_symlink():
        raise UsageError(
            f"--out {out} is a symbolic link; give a new folder (compare never writes "
            "through a link)"
        )
    if out.exists():
        if not out.is_dir() or any(out.iterdir()):
            raise UsageError(
                f"--out {out} already exists and is not an empty folder; name a new one"
            )
        return False
    try:
        out.mkdir(parents=True)
    except OSError as e:
        raise UsageError(
            f"cannot create {out}: {e.strerror or e}; choose --out elsewhere"
        ) from None
    return True


def write_comparison(folders: list[Path], out: Path, noise_band: float = NOISE_BAND) -> Path:
    """Check every folder, then compare them into `out` (new, or empty); returns
    compare.md's path. A folder that fails its checks writes nothing."""
    runs = load_runs(folders)
    made = _create_out(out)
    try:
        table = compare(runs, noise_band)
        figures = {
            "ns": plot_ns(table, runs, out),
            "ratio": plot_ratio(table, runs, out, noise_band),
            "pairs": plot_sweep(table, runs, "pairs", out),
            "ring": plot_sweep(table, runs, "ring", out),
            "memory": plot_memory(runs, out),
        }
        write_csv(table, out / COMPARE_CSV)
        text = render_markdown(runs, table, figures, noise_band)
        md_path = atomic_write(out / "compare.md", text)
        drawn = [p for paths in figures.values() for p in paths]
        html.write(text, out, "compare.html", "switchbench compare", drawn)
    except BaseException:
        if made:  # nothing half-written is left behind
            shutil.rmtree(out, ignore_errors=True)
        raise
    return md_path
