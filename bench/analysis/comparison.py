"""Result folders → compare.csv's table.

Each case's ratio to the first run, its CI and verdict, and what differs between the
machines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.analysis.host_facts import CLOCK, clock_text, host_clock_ghz, machine_facts
from bench.analysis.mood import reference_level
from bench.analysis.stats import (
    bootstrap_medians,
    percentile_ci,
    within_processes,
)
from bench.catalogue.cases import GOROUTINE_CASE, SYSCALL_CASE
from bench.render.fmt import visible
from bench.results import read
from bench.results.schema import COMPARE_COLUMNS

# Two back-to-back default runs of the development VM differ by about this much in a
# typical case (switchbench selfbench measures it on any machine): a smaller band
# would call differences of one machine from itself significant.
NOISE_BAND = 0.10


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
    timesplit: pd.DataFrame | None = None  # timesplit.csv, None where the run has none

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
            RunData(
                label,
                path,
                data.host,
                data.run,
                data.summary,
                data.samples,
                data.memory,
                data.timesplit,
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
    return host_clock_ghz(run.host)


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


def host_facts(run: RunData) -> dict[str, object]:
    """The machine's facts (bench.analysis.host_facts), the clock as the rate the run's
    cycles figures rest on, and the run's profile."""
    facts = machine_facts(run.host)
    facts[CLOCK] = clock_text(*run_clock_ghz(run))
    level = reference_level(run.samples)
    facts[CANARY] = "not measured" if math.isnan(level) else f"{level:.2f}"
    facts["profile"] = run.run.get("profile")
    return facts


# A clock rate is measured at the start of each run, and one machine's measurement
# moves a little from run to run (boost, the host's load); the diff calls two rates from
# the same source different only beyond this share.
CLOCK_SAME_WITHIN = 0.05
# The mood canary's median over a run (bench.analysis.mood): across different hardware
# it is itself a hardware difference (other caches, other memory), so the diff shows
# it; between two runs of one machine it moves by a few percent with the machine's
# mood, so, like the clock, it is called different only beyond CANARY_SAME_WITHIN.
CANARY = "mood canary (median ns per load)"
CANARY_SAME_WITHIN = 0.05


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
        if name == CLOCK:
            return _clocks_differ(runs)
        if name == CANARY:
            levels = [reference_level(r.samples) for r in runs]
            if any(math.isnan(x) for x in levels):
                return not all(math.isnan(x) for x in levels)
            return max(levels) > min(levels) * (1 + CANARY_SAME_WITHIN)
        return len({str(f[name]) for f in facts}) > 1

    return [(name, [f[name] for f in facts], differs(name)) for name in facts[0]]


def point_cases(table: pd.DataFrame, runs: list[RunData]) -> list[str]:
    """The measured cases that are not sweep points, in the first run's order."""
    sweeps: set[str] = set()
    for run in runs:
        sweeps |= set(run.summary.loc[run.summary["sweep"].fillna("") != "", "case"])
    ok = table[table["status"] == "ok"]
    return [c for c in dict.fromkeys(ok["case"]) if c not in sweeps]


def sweep_rows(run: RunData, sweep: str) -> pd.DataFrame:
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
    return [r.label for r in runs if sweep_rows(r, what).empty]
