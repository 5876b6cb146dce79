"""Two runs of one machine → each case's ratio at one common mood level, and how far apart
such runs are: the noise band the adjusted figures support.

compare's verdict (bench.analysis.comparison) judges the raw medians: a ratio whose CI
excludes 1 and that lies outside a noise band sized for how far two runs of one machine
drift apart. Where two runs of one machine are adjusted to common mood levels (the same
canary level, and each case's median CPU share over the runs) and the adjustment is
trusted in both, the ratio of the adjusted medians is the headline instead, with its CI
from the two adjustments' bootstrap draws, as ratio_ci draws the raw one. What band
such runs then need is measured, not assumed: agreement_by_band counts, for a ladder of
bands, how many cases two runs call "same within noise", raw and headline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.analysis.comparison import RunData, verdict
from bench.analysis.mood import adjusted_at, common_levels
from bench.analysis.stats import percentile_ci

# The bands agreement_by_band tries, widest first (compare's default is the first).
BANDS = (0.10, 0.05, 0.03, 0.02, 0.01)
# The share of cases two runs of one machine must call the same for a band to be one
# the runs support.
SUPPORTED_SHARE = 0.90


@dataclass(frozen=True)
class HeadlineRatio:
    """One case's ratio of a run to the first: adjusted where both runs' adjustments
    are trusted at the common levels, else compare's raw ratio."""

    ratio: float
    low: float
    high: float
    adjusted: bool


def headline_ratio(
    first: RunData, other: RunData, case: str, raw: tuple[float, float, float]
) -> HeadlineRatio:
    levels = common_levels([first.samples, other.samples], case)
    a = adjusted_at(first.samples, case, levels, seed=0)
    b = adjusted_at(other.samples, case, levels, seed=1)
    if not (a.trusted and b.trusted and a.drawn is not None and b.drawn is not None):
        return HeadlineRatio(*raw, adjusted=False)
    ratio = b.adjusted_ns / a.adjusted_ns
    low, high = percentile_ci(math.log(ratio), b.drawn - a.drawn)
    return HeadlineRatio(ratio, math.exp(low), math.exp(high), adjusted=True)


def headline_ratios(runs: list[RunData], table: pd.DataFrame) -> pd.DataFrame:
    """For every case compare judged (the second run against the first): its raw ratio
    and CI, and its headline ratio and CI (index: case)."""
    if len(runs) < 2 or not {"run", "case", "ratio_to_first"} <= set(table.columns):
        return pd.DataFrame()
    judged = table[(table["run"] == 1) & table["ratio_to_first"].notna()]
    rows = {}
    for _, row in judged.iterrows():
        raw = (row["ratio_to_first"], row["ratio_ci_low"], row["ratio_ci_high"])
        h = headline_ratio(runs[0], runs[1], str(row["case"]), raw)
        rows[str(row["case"])] = {
            "raw_ratio": raw[0],
            "raw_low": raw[1],
            "raw_high": raw[2],
            "ratio": h.ratio,
            "low": h.low,
            "high": h.high,
            "adjusted": h.adjusted,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def agreement_by_band(ratios: pd.DataFrame) -> pd.DataFrame:
    """For each band of BANDS: how many cases two runs call the same (compare's verdict
    at that band), by the raw ratios and by the headline ones."""
    rows = []
    for band in BANDS:
        same = {}
        for name, prefix in (("raw", "raw_"), ("headline", "")):
            calls = [
                verdict(r[f"{prefix}ratio"], r[f"{prefix}low"], r[f"{prefix}high"], band)[0]
                for _, r in ratios.iterrows()
            ]
            same[name] = int(sum(call is not True for call in calls))
        rows.append({"band": band, "cases": len(ratios), **same})
    return pd.DataFrame(rows)


def supported_band(by_band: pd.DataFrame, column: str) -> float:
    """The narrowest band of BANDS at which at least SUPPORTED_SHARE of the cases are
    called the same, and every wider band too; NaN if even the widest falls short."""
    band = math.nan
    for _, row in by_band.sort_values("band", ascending=False).iterrows():
        if row["cases"] and row[column] >= SUPPORTED_SHARE * row["cases"]:
            band = float(row["band"])
        else:
            break
    return band


def spread(ratios: pd.DataFrame, column: str) -> tuple[float, float]:
    """How far apart the runs are: the median and 90th percentile of |log ratio| as a
    ratio less 1."""
    x = np.abs(np.log(ratios[column].astype(float).to_numpy()))
    x = x[np.isfinite(x)]
    if not len(x):
        return math.nan, math.nan
    return float(np.expm1(np.median(x))), float(np.expm1(np.percentile(x, 90)))
