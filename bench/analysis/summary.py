"""samples.csv rows → summary.csv: one row per case, median and 95% CI (bench.analysis.stats),
the OS context switches against the case's expectation, and the ratio to the baseline."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.analysis.mood import with_mood
from bench.analysis.stats import median_ci, regression, trust
from bench.catalogue.cases import BASELINE_CASE, Case
from bench.catalogue.expect import range_text
from bench.native.bridge import COUNTER_NAMES
from bench.results.schema import SUMMARY_COLUMNS
from bench.results.write import write_csv


def _per_switch(rows: pd.DataFrame, column: str) -> float:
    """Total count over total switches; unavailable (NaN) if any row lacks it, or none."""
    if rows.empty or rows[column].isna().any():
        return math.nan
    return float(rows[column].sum() / rows["switches"].sum())


def os_ctx_check(case: Case, measured: float) -> str:
    """'ok' if the measured OS switches per switch are in the case's expected range
    (bounds included), 'MISS' if outside it, 'unavailable' if not measured; followed by
    the range it was checked against, as 'MISS (0.5' en dash '1.5)', so that
    summary.csv keeps the range beside the verdict (check_verdict, check_range)."""
    low, high = case.expected_os_ctx_range
    if math.isnan(measured):
        verdict = "unavailable"
    else:
        verdict = "ok" if low <= measured <= high else "MISS"
    return f"{verdict} ({range_text(low, high)})"


_CHECK = re.compile(r"\s*(\S+)(?:\s*\(\s*([^()–]+?)\s*–\s*([^()–]+?)\s*\))?\s*")


def check_verdict(check: object) -> str:
    """The verdict of an os_ctx_check text: 'ok', 'MISS', 'unavailable' ('' if none).
    Folders written before the range was added hold the bare verdict."""
    found = _CHECK.fullmatch(check) if isinstance(check, str) else None
    return found.group(1) if found else ""


def check_range(check: object) -> tuple[float, float] | None:
    """The expected range an os_ctx_check text names, or None (an older folder's
    bare verdict, or text that is not a range)."""
    found = _CHECK.fullmatch(check) if isinstance(check, str) else None
    if not found or found.group(2) is None:
        return None
    try:
        low, high = (float(math.inf if b == "∞" else b) for b in found.group(2, 3))
    except ValueError:
        return None
    return (low, high) if low <= high else None


def _counts_per_switch(timed: pd.DataFrame, counted: pd.DataFrame) -> dict[str, float]:
    """Counters per switch over all samples: total count over total switches (getrusage's
    from the timed samples, perf's from the counted runs). A counter missing from any
    sample is unavailable for the case."""
    per_switch = {
        column: _per_switch(timed, column) for column in ("voluntary_ctx", "involuntary_ctx")
    }
    per_switch.update({name: _per_switch(counted, name) for name in COUNTER_NAMES})
    return per_switch


def _os_ctx(per_switch: dict[str, float]) -> tuple[float, str]:
    """OS context switches per switch and where they come from. getrusage over the timed
    samples first: the kernel's own per-thread counts (the same events perf's
    context-switches counts), read without slowing the switches as an active perf
    counter does. perf's count of the counted run is the fallback and the cross-check."""
    vol, invol = per_switch["voluntary_ctx"], per_switch["involuntary_ctx"]
    if not math.isnan(vol + invol):
        return vol + invol, "getrusage"
    if not math.isnan(per_switch["context_switches"]):
        return per_switch["context_switches"], "perf_event_open"
    return math.nan, "unavailable"


def summarise(
    samples: pd.DataFrame,
    cases: Iterable[Case],
    not_measured: dict[str, tuple[str, str]],
    stops: dict[str, str] | None = None,
) -> pd.DataFrame:
    """One row per case. not_measured maps case id -> (status, reason) for skips and
    failures; stops, case id -> why its sampling stopped."""
    rows = []
    for case in cases:
        row: dict[str, object] = {
            "case": case.id,
            "description": case.description,
            "unit": case.unit,
            "one_op": case.op,
            "switches_per_op": case.switches_per_op,
            "sweep": case.sweep,
            "sweep_x": case.sweep_x if case.sweep else math.nan,
            "expected_os_ctx_switches_per_switch": case.expected_os_ctx_switches_per_switch,
        }
        both = samples[samples["case"] == case.id]
        # Times and getrusage counts from the timed samples; perf counters from the
        # counted runs, made apart because counting slows context switches.
        mine = both[both["kind"] == "timed"]
        counted = both[both["kind"] == "counted"]
        sized = both[both["kind"] == "sized"]
        if case.id in not_measured or mine.empty:
            status, reason = not_measured.get(case.id, ("failed", "no samples"))
            row.update(status=status, reason=reason, samples=0, processes=0)
            rows.append(row)
            continue
        median, low, high = median_ci(mine["ns_per_switch"].to_numpy(), mine["process"].to_numpy())
        fit = regression(
            sized["switches"].to_numpy(dtype=float),
            (sized["ns_per_switch"] * sized["switches"]).to_numpy(dtype=float),
            sized["process"].to_numpy(),
        )
        per_switch = _counts_per_switch(mine, counted)
        vol, invol = per_switch["voluntary_ctx"], per_switch["involuntary_ctx"]
        os_ctx, source = _os_ctx(per_switch)
        cycles, instructions = per_switch["cycles"], per_switch["instructions"]
        row.update(
            status="ok",
            reason="",
            ns_per_switch=median,
            ci_low=low,
            ci_high=high,
            ci_half_width=(high - low) / 2 / median if median > 0 else math.nan,
            **fit,
            # One timed run's length, to set the intercept against.
            run_ns=float(np.median(mine["ns_per_switch"] * mine["switches"])),
            trust=trust(median, low, high, fit["r_squared"], int(mine["process"].nunique())),
            stop=(stops or {}).get(case.id, ""),
            samples=len(mine),
            processes=mine["process"].nunique(),
            os_ctx_switches_per_switch=os_ctx,
            os_ctx_source=source,
            voluntary_ctx_per_switch=vol,
            involuntary_ctx_per_switch=invol,
            os_ctx_check=os_ctx_check(case, os_ctx),
            ipc=instructions / cycles if cycles > 0 else math.nan,
            perf_overhead=(
                float(np.median(counted["ns_per_switch"])) / median
                if not counted.empty
                else math.nan
            ),
            **{f"{name}_per_switch": per_switch[name] for name in COUNTER_NAMES},
        )
        rows.append(row)
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    base = summary.loc[
        (summary["case"] == BASELINE_CASE) & (summary["status"] == "ok"), "ns_per_switch"
    ]
    if not base.empty:
        summary["ratio_to_go_chan_p1"] = summary["ns_per_switch"] / float(base.iloc[0])
    return with_mood(summary, samples)


def write_summary(summary: pd.DataFrame, out: Path) -> None:
    write_csv(summary, out)
