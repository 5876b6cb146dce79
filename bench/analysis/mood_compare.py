"""Two runs of one machine → each case's ratio at one common canary level, and how far apart
such runs are: the noise band the adjusted figures support.

compare's verdict (bench.analysis.comparison) judges the raw medians: a ratio whose CI
excludes 1 and that lies outside a noise band sized for how far two runs of one machine
drift apart. Much of that drift is the machine's, and the mood canary sees it. Within
one run the canary hardly moves and explains little (bench.analysis.mood), but between
two runs minutes apart it moves with the cases: the warmed chase is a latency in ns, and
when the machine's CPUs run slower or faster (the host's clock, its neighbours), the
chase and every switch on one CPU move together. So the two runs are set side by side at
one canary level: each case's ratio over its canary's ratio between the runs, raised to
the machine's slope,

    at one level = (median_b / median_a) / (canary_b / canary_a) ** beta,

where beta is fitted across the cases on one CPU (those that keep one CPU busy, whose
time is all CPU time), through the origin (no canary shift, no adjustment):
log(ratio) = beta * log(canary ratio). The CI resamples everything the figure rests on:
each run's values and canaries by process and value (as ratio_ci does), and the cases
beta is fitted on. Cases spread over CPUs or sweep points keep their raw ratio: the
scheduler's placement, not the clock, moves them. What band such runs then need is
measured, not assumed: agreement_by_band counts, for a ladder of bands, how many cases
two runs call "same within noise", raw and at one level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.analysis.comparison import RunData, verdict
from bench.analysis.mood import canary_of
from bench.analysis.stats import BOOTSTRAP_RESAMPLES, bootstrap_medians, percentile_ci
from bench.catalogue.cases import CATALOGUE
from bench.catalogue.profiles import SPREAD_PLACEMENTS

# The bands agreement_by_band tries, widest first (compare's default is the first).
BANDS = (0.10, 0.05, 0.03, 0.02, 0.01)
# The share of cases two runs of one machine must call the same for a band to be one
# the runs support.
SUPPORTED_SHARE = 0.90
# Cases on one CPU needed before a machine slope is fitted across them.
MIN_CASES_FOR_SLOPE = 5
ONE_CPU = frozenset(c.id for c in CATALOGUE if not c.sweep and c.placement not in SPREAD_PLACEMENTS)


@dataclass(frozen=True)
class Shift:
    """One case's shift between two runs: the log ratio of its medians and of its
    canaries, and their bootstrap draws."""

    log_ratio: float
    log_canary: float
    ratio_draws: np.ndarray
    canary_draws: np.ndarray


def _timed(samples: pd.DataFrame, case: str) -> pd.DataFrame:
    mine = samples[samples["case"] == case]
    return mine[mine["kind"] == "timed"] if "kind" in mine.columns else mine


def shift(first: RunData, other: RunData, case: str) -> Shift | None:
    """The case's shift from the first run to the other; None where either run lacks
    its values or canaries (the canary is never taken as 0)."""
    a, b = _timed(first.samples, case), _timed(other.samples, case)
    ca, cb = canary_of(a), canary_of(b)
    if len(a) < 3 or len(b) < 3 or ca.isna().any() or cb.isna().any():
        return None
    va, vb = a["ns_per_switch"].to_numpy(float), b["ns_per_switch"].to_numpy(float)
    ga, gb = a["process"].to_numpy(), b["process"].to_numpy()
    # Seeds as comparison.ratio_ci draws them (the first run 0, the other 1).
    ratio_draws = np.log(bootstrap_medians(vb, gb, 1) / bootstrap_medians(va, ga, 0))
    canary_draws = np.log(
        bootstrap_medians(cb.to_numpy(float), gb, 3) / bootstrap_medians(ca.to_numpy(float), ga, 2)
    )
    return Shift(
        math.log(np.median(vb) / np.median(va)),
        math.log(cb.median() / ca.median()),
        ratio_draws,
        canary_draws,
    )


def machine_slope(shifts: dict[str, Shift], seed: int = 0) -> tuple[float, np.ndarray]:
    """beta of log(ratio) = beta * log(canary ratio) over the one-CPU cases, and its
    bootstrap draws (cases resampled, and each case's own draws); NaN where fewer than
    MIN_CASES_FOR_SLOPE cases, or their canaries did not move."""
    on_one = [s for case, s in shifts.items() if case in ONE_CPU]
    if len(on_one) < MIN_CASES_FOR_SLOPE:
        return math.nan, np.full(BOOTSTRAP_RESAMPLES, math.nan)
    y = np.array([s.log_ratio for s in on_one])
    x = np.array([s.log_canary for s in on_one])
    if not (x @ x) > 0:
        return math.nan, np.full(BOOTSTRAP_RESAMPLES, math.nan)
    beta = float(x @ y / (x @ x))
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, len(on_one), size=(BOOTSTRAP_RESAMPLES, len(on_one)))
    dy = np.stack([s.ratio_draws for s in on_one], axis=1)  # draws x cases
    dx = np.stack([s.canary_draws for s in on_one], axis=1)
    rows = np.arange(BOOTSTRAP_RESAMPLES)[:, None]
    xs, ys = dx[rows, picked], dy[rows, picked]
    with np.errstate(divide="ignore", invalid="ignore"):
        betas = (xs * ys).sum(axis=1) / (xs * xs).sum(axis=1)
    return beta, np.where(np.isfinite(betas), betas, beta)


@dataclass(frozen=True)
class HeadlineRatio:
    """One case's ratio of a run to the first: at one canary level where the case is on
    one CPU and the machine slope could be fitted, else compare's raw ratio."""

    ratio: float
    low: float
    high: float
    adjusted: bool


def headline_ratios(runs: list[RunData], table: pd.DataFrame) -> pd.DataFrame:
    """For every case compare judged (the second run against the first): its raw ratio
    and CI, its canary's ratio, and its ratio and CI at one canary level (index: case);
    the machine slope in the frame's attrs ("beta", "beta_low", "beta_high")."""
    if len(runs) < 2 or not {"run", "case", "ratio_to_first"} <= set(table.columns):
        return pd.DataFrame()
    judged = table[(table["run"] == 1) & table["ratio_to_first"].notna()]
    cases = [str(c) for c in judged["case"]]
    shifts = {c: s for c in cases if (s := shift(runs[0], runs[1], c)) is not None}
    beta, betas = machine_slope(shifts)
    rows = {}
    for _, row in judged.iterrows():
        case = str(row["case"])
        raw = (row["ratio_to_first"], row["ratio_ci_low"], row["ratio_ci_high"])
        s = shifts.get(case)
        at_one = HeadlineRatio(*raw, adjusted=False)
        if s is not None and case in ONE_CPU and math.isfinite(beta):
            log_at = s.log_ratio - beta * s.log_canary
            low, high = percentile_ci(log_at, s.ratio_draws - betas * s.canary_draws)
            at_one = HeadlineRatio(math.exp(log_at), math.exp(low), math.exp(high), True)
        rows[case] = {
            "raw_ratio": raw[0],
            "raw_low": raw[1],
            "raw_high": raw[2],
            "canary_ratio": math.exp(s.log_canary) if s is not None else math.nan,
            "ratio": at_one.ratio,
            "low": at_one.low,
            "high": at_one.high,
            "adjusted": at_one.adjusted,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    if math.isfinite(beta):
        out.attrs["beta"] = beta
        out.attrs["beta_low"], out.attrs["beta_high"] = percentile_ci(beta, betas)
    return out


def agreement_by_band(ratios: pd.DataFrame) -> pd.DataFrame:
    """For each band of BANDS: how many cases two runs call the same (compare's verdict
    at that band), by the raw ratios and by the ratios at one canary level."""
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
