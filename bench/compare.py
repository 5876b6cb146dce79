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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bench import folder as folder_files
from bench import html
from bench.analyse import bootstrap_medians, percentile_ci
from bench.errors import UsageError
from bench.fmt import code, kib, md, ns, num

# Two back-to-back default runs of the development VM differ by about this much in a
# typical case (switchbench selfbench measures it on any machine): a smaller band
# would call differences of one machine from itself significant.
NOISE_BAND = 0.10
GOROUTINE_CASE = "go.chan.p1"
THREAD_CASE = "c.condvar.same-core"
SYSCALL_CASE = "c.syscall.getppid"
RUN_COLOURS = ("#1b6ca8", "#d1495b", "#edae49", "#66a182", "#8d6a9f", "#2e4057", "#b5651d")

COMPARE_COLUMNS = [
    "case",
    "run",
    "label",
    "status",
    "ns_per_switch",
    "ci_low",
    "ci_high",
    "ratio_to_first",
    "ratio_ci_low",
    "ratio_ci_high",
    "significant",
    "verdict",
    "cycles_per_switch",
    "cycles_source",
    "x_null_syscall",
    "x_go_chan_p1",
]


@dataclass(frozen=True)
class RunData:
    """One result folder, read and checked."""

    label: str
    folder: Path
    host: dict[str, Any]
    run: dict[str, Any]
    summary: pd.DataFrame
    samples: pd.DataFrame

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
        if not path.is_dir():
            raise UsageError(
                f"{path} is not a folder; give result folders made by `switchbench run`"
            )
        label = path.resolve().name or f"run{i + 1}"
        if label in labels:  # two folders of one name (e.g. a/reference, b/reference)
            label = f"{label} ({i + 1})"
        labels.add(label)
        runs.append(
            RunData(
                label,
                path,
                folder_files.load_host(path),
                folder_files.load_run(path),
                folder_files.load_summary(path),
                folder_files.load_samples(path),
            )
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
    worker process and value within it when groups are given (bench.analyse says why).
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
    ratio: float, low: float, high: float, noise_band: float = NOISE_BAND
) -> tuple[bool | None, str]:
    """(significant, words): significant when the CI excludes 1 and the ratio is
    outside the noise band; None when there is no CI to judge by."""
    if math.isnan(low) or math.isnan(high):
        return None, "no CI (too few samples)"
    outside_band = ratio > 1 + noise_band or ratio < 1 / (1 + noise_band)
    if (low > 1 or high < 1) and outside_band:
        return True, "slower" if ratio > 1 else "faster"
    return False, "same within noise"


def clock_ghz(run: RunData, row: pd.Series | None = None) -> tuple[float, str]:
    """The clock rate to turn this run's ns into cycles, and where it came from."""
    if row is not None:
        cycles, task_ns = row.get("cycles_per_switch"), row.get("task_clock_ns_per_switch")
        if (
            isinstance(cycles, float)
            and isinstance(task_ns, float)
            and cycles > 0
            and task_ns > 0
            and math.isfinite(cycles / task_ns)
        ):
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
                significant, words = verdict(ratio, low, high, noise_band)
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
    ghz, source = clock_ghz(run)
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


def _clocks_differ(runs: list[RunData]) -> bool:
    rates = [clock_ghz(r) for r in runs]
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


def _save(fig: plt.Figure, out: Path, stem: str) -> list[Path]:
    fig.tight_layout()
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    for path in paths:
        fig.savefig(path, dpi=110)
    plt.close(fig)
    return paths


def _point_cases(table: pd.DataFrame, runs: list[RunData]) -> list[str]:
    """The measured cases that are not sweep points, in the first run's order."""
    sweeps: set[str] = set()
    for run in runs:
        sweeps |= set(run.summary.loc[run.summary["sweep"].fillna("") != "", "case"])
    ok = table[table["status"] == "ok"]
    return [c for c in dict.fromkeys(ok["case"]) if c not in sweeps]


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
    ax.set_xlabel("ns per switch (median, 95% CI; log scale)")
    ax.set_title("Each case on each machine")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, out, "compare_ns_per_switch")


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
    ax.set_yticks(range(len(cases)), cases, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"median ÷ {runs[0].label}'s (log scale; the line is the 95% CI)")
    ax.set_title("Slower (right) or faster (left) than the first run; faint = not significant")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, out, "compare_ratio")


def plot_sweep(table: pd.DataFrame, runs: list[RunData], sweep: str, out: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    drawn = False
    for i, run in enumerate(runs):
        s = run.summary
        rows = s[(s["sweep"].fillna("") == sweep) & (s["status"] == "ok")]
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
    if sweep == "pairs":
        ax.set_xscale("log", base=2)
        ax.set_xlabel("independent ping-pong pairs running at once")
    else:
        ax.set_xscale("symlog", base=2, linthresh=16)
        ax.set_xlabel("working set each context touches per turn (KiB)")
    ax.set_ylabel("ns per switch (median)")
    ax.set_title(f"The {sweep} sweep on each machine")
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, out, f"compare_sweep_{sweep}")


def plot_memory(runs: list[RunData], out: Path) -> list[Path]:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    drawn = False
    for i, run in enumerate(runs):
        mem = folder_files.load_memory(run.folder)
        for kind, style in (("goroutine", "o-"), ("thread", "s--")):
            rows = folder_files.memory_curve(mem, kind)
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
    ax.set_yscale("log", base=2)
    ax.set_xlabel("units parked at once")
    ax.set_ylabel("resident bytes per unit")
    ax.set_title("Memory per goroutine and per thread on each machine")
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, out, "compare_memory")


# ---- compare.md ----------------------------------------------------------------


def _images(paths: list[Path], alt: str) -> list[str]:
    return [f"![{alt}]({p.name})\n" for p in paths if p.suffix == ".png"]


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
        mem = folder_files.load_memory(run.folder)
        per_kind = {}
        for kind in ("goroutine", "thread"):
            rows = folder_files.memory_curve(mem, kind)
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
            counts.append(
                f"- {md(runs[i].label)}: {len(sig)} of {judged} cases differ significantly "
                f"({(sig['ratio_to_first'] > 1).sum()} slower, "
                f"{(sig['ratio_to_first'] < 1).sum()} faster)."
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
    lines += _images(figures["ns"], "ns per switch on each machine")
    lines += _images(figures["ratio"], "ratio to the first run")
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
            cells.append(
                f"{ns(r['ns_per_switch'])} ({_ci_text(r['ci_low'], r['ci_high'])})"
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
        "the machine has one, else the clock rate measured at the start of the run on a "
        "chain of dependent additions, else the one the kernel reports; the table at the "
        "top says which). The multiples divide by the same run's null system call "
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
            lines += [f"## {title}", "", *_images(figures[key], title)]
    lines += [
        "## Files",
        "",
        "compare.csv holds every figure above, one row per case and run. For pyperf's own "
        "view of the same samples: `python -m pyperf compare_to A/suite.json B/suite.json "
        "--table`.",
        "",
    ]
    return "\n".join(lines)


def write_comparison(folders: list[Path], out: Path, noise_band: float = NOISE_BAND) -> Path:
    """Compare the folders into `out`; returns compare.md's path."""
    runs = load_runs(folders)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(
            f"cannot create {out}: {e.strerror or e}; choose --out elsewhere"
        ) from None
    table = compare(runs, noise_band)
    figures = {
        "ns": plot_ns(table, runs, out),
        "ratio": plot_ratio(table, runs, out, noise_band),
        "pairs": plot_sweep(table, runs, "pairs", out),
        "ring": plot_sweep(table, runs, "ring", out),
        "memory": plot_memory(runs, out),
    }
    tmp = out / "compare.csv.tmp"
    table.to_csv(tmp, index=False)
    tmp.replace(out / "compare.csv")
    text = render_markdown(runs, table, figures, noise_band)
    md_path = out / "compare.md"
    tmp = out / "compare.md.tmp"
    tmp.write_text(text)
    tmp.replace(md_path)
    html.write(text, out, "compare.html", "switchbench compare")
    return md_path
