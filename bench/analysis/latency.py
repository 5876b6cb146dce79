"""Per-hand-off latencies, one array per run → percentiles, bootstrap CIs and a compact histogram.

Pure functions: nothing here reads or writes a file.

The CIs of p50 and p99 resample runs first, then values within each chosen run, as
bench.analysis.stats.median_ci does for medians, since the values of one run are not
independent (a run's threads meet one state of the machine). Resampling 100,000 values
thousands of times would be slow, so the values of each run are counted into fine
logarithmic bins (RESAMPLE_RATIO wide) and a resample of a run is a multinomial draw of
its bin counts: the same distribution as drawing its values with replacement, at the
bins' resolution. The point estimates come from the values themselves. As in
median_ci, each arm is widened by sqrt(n/(n-1)) for n runs, on a log scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bench.analysis.stats import CONFIDENCE

# The percentiles latency.csv holds, as (column stem, percent).
PERCENTILES = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p99", 99.0),
    ("p99_9", 99.9),
    ("p99_99", 99.99),
)
# The ones with a bootstrap CI.
CI_PERCENTILES = ("p50", "p99")
RESAMPLES = 1999
RESAMPLE_RATIO = 1.005  # bins 0.5% wide: the CIs' resolution
HIST_RATIO = 1.02  # bins of latency_hist.csv, 2% wide (or 1 ns where that is wider)


def log_edges(low: float, high: float, ratio: float) -> np.ndarray:
    """Integer bin edges (ns) from at most `low` to above `high`, each bin `ratio`
    times as wide as the one before or 1 ns, whichever is wider."""
    low = max(1.0, math.floor(low))
    steps = math.ceil(math.log(max(high + 1, low + 1) / low) / math.log(ratio)) + 1
    edges = np.unique(np.floor(low * ratio ** np.arange(steps + 1)).astype(np.int64))
    if edges[-1] <= high:
        edges = np.append(edges, int(high) + 1)
    return edges


def percentiles(values: np.ndarray) -> dict[str, float]:
    """Each of PERCENTILES, and the max, of the values (ns)."""
    out = {name: float(np.percentile(values, q, method="inverted_cdf")) for name, q in PERCENTILES}
    out["max"] = float(np.max(values))
    out["min"] = float(np.min(values))
    return out


def _run_counts(runs: Sequence[np.ndarray], edges: np.ndarray) -> np.ndarray:
    return np.stack([np.histogram(r, bins=edges)[0] for r in runs])


def bootstrap_percentiles(
    runs: Sequence[np.ndarray],
    qs: Sequence[float],
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> np.ndarray:
    """(resamples, len(qs)) percentiles of two-stage bootstrap resamples: runs drawn
    with replacement, then each chosen run's values drawn with replacement (as
    multinomial counts over fine bins); each percentile is its bin's geometric middle."""
    rng = np.random.default_rng(seed)
    lows = min(float(np.min(r)) for r in runs)
    highs = max(float(np.max(r)) for r in runs)
    edges = log_edges(lows, highs, RESAMPLE_RATIO)
    counts = _run_counts(runs, edges)
    keep = counts.sum(axis=0) > 0  # only bins some run has values in
    counts, middles = counts[:, keep], np.sqrt(edges[:-1] * (edges[1:] - 1).clip(1))[keep]
    n_runs = len(runs)
    chosen = rng.integers(0, n_runs, size=(resamples, n_runs))
    pooled = np.zeros((resamples, counts.shape[1]), dtype=np.int64)
    for r in range(n_runs):
        where = np.nonzero(chosen == r)[0]  # the resample of each slot that drew run r
        if where.size == 0:
            continue
        size = int(counts[r].sum())
        draws = rng.multinomial(size, counts[r] / size, size=where.size)
        np.add.at(pooled, where, draws)
    cumulative = np.cumsum(pooled, axis=1)
    totals = cumulative[:, -1:]
    out = np.empty((resamples, len(qs)))
    for j, q in enumerate(qs):
        index = (cumulative < np.ceil(totals * q / 100.0)).sum(axis=1)
        out[:, j] = middles[np.minimum(index, len(middles) - 1)]
    return out


def widened_ci(estimate: float, resampled: np.ndarray, n_groups: int) -> tuple[float, float]:
    """The percentile interval of the resamples, each arm widened by sqrt(n/(n-1)) on a
    log scale (times are positive and skewed), as median_ci does."""
    alpha = (1 - CONFIDENCE) / 2
    low, high = np.quantile(resampled, [alpha, 1 - alpha])
    low, high = min(float(low), estimate), max(float(high), estimate)
    if n_groups < 2 or low <= 0 or estimate <= 0:
        return low, high
    widen = math.sqrt(n_groups / (n_groups - 1))
    return estimate * (low / estimate) ** widen, estimate * (high / estimate) ** widen


def summarise(
    runs: Sequence[np.ndarray], seed: int = 0, resamples: int = RESAMPLES
) -> dict[str, float]:
    """Percentiles of all the runs' values pooled, with bootstrap CIs for p50 and p99
    (NaN with fewer than 2 runs: one run cannot show how runs differ). Where the runs
    do not differ, resampling both runs and values counts their scatter twice and the
    CIs are wider than they need be (tests/unit/test_latency.py sees them cover a known
    truth more often than 95%), never narrower."""
    values = np.concatenate(runs)
    out = percentiles(values)
    qs = [q for name, q in PERCENTILES if name in CI_PERCENTILES]
    resampled = bootstrap_percentiles(runs, qs, resamples, seed) if len(runs) >= 2 else None
    for j, name in enumerate(CI_PERCENTILES):
        if resampled is None:
            out[f"{name}_ci_low"] = out[f"{name}_ci_high"] = math.nan
            continue
        low, high = widened_ci(out[name], resampled[:, j], len(runs))
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = low, high
    return out


def histogram(values: np.ndarray) -> pd.DataFrame:
    """The values counted into HIST_RATIO-wide integer bins [low_ns, high_ns), only the
    bins that hold any: enough to redraw the CDF at 2% resolution."""
    edges = log_edges(float(np.min(values)), float(np.max(values)), HIST_RATIO)
    counts, _ = np.histogram(values, bins=edges)
    keep = counts > 0
    return pd.DataFrame(
        {"low_ns": edges[:-1][keep], "high_ns": edges[1:][keep], "count": counts[keep]}
    )


def cdf_points(hist: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(x, F(x)) of a histogram's CDF: at each bin's upper edge, the share at or below."""
    hist = hist.sort_values("low_ns")
    counts = hist["count"].to_numpy(dtype=float)
    if counts.sum() <= 0:
        return np.array([]), np.array([])
    return hist["high_ns"].to_numpy(dtype=float), np.cumsum(counts) / counts.sum()


def bucket_percentile(buckets: pd.DataFrame, q: float) -> float:
    """The q-th percentile of a bucketed histogram (low_s, high_s, count): the upper
    boundary of the bucket in which the cumulative count reaches q%, in ns; NaN when
    that bucket has no finite upper boundary or there are no counts."""
    if buckets.empty or buckets["count"].sum() <= 0:
        return math.nan
    ordered = buckets.sort_values("low_s", na_position="first")
    cumulative = ordered["count"].cumsum().to_numpy()
    index = int(np.searchsorted(cumulative, math.ceil(cumulative[-1] * q / 100.0)))
    high = ordered["high_s"].iloc[min(index, len(ordered) - 1)]
    return math.nan if high is None or not math.isfinite(float(high)) else float(high) * 1e9
