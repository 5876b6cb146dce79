"""Samples of one case → its median, bootstrap CI, regression slope and trust.

The CI is a bootstrap interval of the median, which assumes nothing about
the shape of the distribution: switch timings on a shared VM are skewed and
have outliers, so mean and standard deviation mislead. It resamples in two
stages, worker processes first and values within each second, because the
values of one process are not independent: on a shared VM a process often
runs at a level of its own (placement, the host's neighbours), and treating
its values as independent draws gives intervals that two runs of the same
machine keep missing.
"""

from __future__ import annotations

import math

import numpy as np

CONFIDENCE = 0.95
# Two measurements of the same thing "agree" when their ratio is within 1 ± this: the
# suite against perf bench (agree), against its minimal loops (overhead), against
# go test -bench (selfbench).
AGREE_WITHIN = 0.10


BOOTSTRAP_RESAMPLES = 4999


def bootstrap_medians(
    values: np.ndarray, groups: np.ndarray | None = None, seed: int = 0
) -> np.ndarray:
    """Medians of BOOTSTRAP_RESAMPLES resamples of values, drawn in two stages: as
    many groups (worker processes) as there are, with replacement, then within each
    drawn group as many of its values as it has, with replacement. Without groups
    every value is its own group: the ordinary bootstrap.

    scipy.stats.bootstrap resamples observations, not clusters of them, hence this.
    Groups and values are put in a canonical order first, so the result depends on
    which values share a group and on the seed, not on their order or labels."""
    values = np.asarray(values, dtype=float)
    groups = np.arange(len(values)) if groups is None else np.asarray(groups)
    clusters = [np.sort(values[groups == key]) for key in np.unique(groups)]
    clusters.sort(key=lambda cluster: (len(cluster), cluster.tolist()))
    sizes = np.array([len(c) for c in clusters])
    table = np.full((len(clusters), sizes.max()), np.inf)
    for i, cluster in enumerate(clusters):
        table[i, : len(cluster)] = cluster
    rng = np.random.default_rng(seed)
    shape = (BOOTSTRAP_RESAMPLES, len(clusters))
    picked = rng.integers(0, len(clusters), size=shape)
    picked_sizes = sizes[picked]
    within = (rng.random((*shape, table.shape[1])) * picked_sizes[..., None]).astype(int)
    draws = table[picked[..., None], within]
    # Slots past a drawn group's size hold +inf: they sort last and are not counted.
    draws[np.arange(table.shape[1]) >= picked_sizes[..., None]] = np.inf
    draws = np.sort(draws.reshape(BOOTSTRAP_RESAMPLES, -1), axis=1)
    counts = picked_sizes.sum(axis=1)
    rows = np.arange(BOOTSTRAP_RESAMPLES)
    return (draws[rows, (counts - 1) // 2] + draws[rows, counts // 2]) / 2


def percentile_ci(estimate: float, resampled: np.ndarray) -> tuple[float, float]:
    """The 95% percentile interval of resampled estimates, widened if need be to hold
    the estimate itself (interpolation can land an ulp past it)."""
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return min(float(low), estimate), max(float(high), estimate)


def median_ci(
    values: np.ndarray, groups: np.ndarray | None = None, seed: int = 0
) -> tuple[float, float, float]:
    """Median and its bootstrap 95% CI, resampling groups (worker processes) and
    values within them when groups are given; the CI is NaN with fewer than 3 values."""
    values = np.asarray(values, dtype=float)
    median = float(np.median(values))
    if len(values) < 3:
        return median, math.nan, math.nan
    if np.ptp(values) == 0:
        return median, median, median
    low, high = percentile_ci(median, bootstrap_medians(values, groups, seed))
    # The bootstrap takes the n processes it has for the whole population, so its spread
    # falls short by (n - 1) / n in variance, which matters with a few processes (the
    # seeded simulation in tests/unit/test_coverage.py sees it). Each arm is widened by
    # sqrt(n / (n - 1)), the usual correction of that bias.
    n = len(np.unique(groups)) if groups is not None else len(values)
    widen = math.sqrt(n / (n - 1)) if n > 1 else 1.0
    if low > 0:
        # Times are positive and skewed: widened on a log scale, so a wide interval's
        # lower end stays a time (on a linear scale it could fall below zero).
        return median, median * (low / median) ** widen, median * (high / median) ** widen
    return median, median - (median - low) * widen, median + (high - median) * widen


# A figure is flagged as not to be trusted when the regression explains less than this
# of the variance of elapsed time, or its median's CI is wider than this (half-width).
MIN_R_SQUARED = 0.95
# Fewer points than this (one process of smoke has 4) give a slope but no CI.
MIN_POINTS_FOR_CI = 8
MAX_CI_HALF_WIDTH = 0.10
# The CI resamples worker processes, so it can see how processes differ from one another
# only when there are several of them. From one process it is a within-process interval:
# it says how that process's values scatter, not where the next process (or run) lands,
# and on a shared VM processes settle at levels of their own (one quick run measured
# 287-291 ns, the next 176 ns). Two processes give a two-point picture of that spread,
# and the bootstrap's interval stays inside the range of their values; from 3, even
# widened (median_ci), it still covers the truth too seldom in the simulation of
# tests/unit/test_coverage.py, and from 4 it covers as a 95% CI should. Below this many
# processes a case never stops on its CI target, and the summary, report and compare
# label its CI as covering only the processes it had.
MIN_PROCESSES_FOR_CI = 4


def within_processes(processes: object) -> str:
    """'' when a CI rests on MIN_PROCESSES_FOR_CI worker processes or more (or the count
    is unknown), else the words that say it covers only those: 'within one process',
    'within 2 processes'."""
    if not isinstance(processes, int | float | np.integer | np.floating):
        return ""
    if not math.isfinite(processes):
        return ""
    count = int(processes)
    if count >= MIN_PROCESSES_FOR_CI or count < 1:
        return ""
    return "within one process" if count == 1 else f"within {count} processes"


# The slope's CI resamples worker processes, then runs within each, as the median's
# does; below this many processes it would be an interval of a handful of process levels,
# so the summary gives the range of the per-process slopes instead (slope_range_*).
MIN_PROCESSES_FOR_SLOPE_CI = 5
SLOPE_RESAMPLES = 1999


def _within_slope(x: np.ndarray, y: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Least-squares slope of y on x with an intercept of each group's own, along the
    last two axes (groups, points); `valid` masks the points that count. Vectorised
    over any leading axes (the bootstrap's resamples)."""
    n = valid.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = np.where(valid, x, 0).sum(axis=-1, keepdims=True) / n
        my = np.where(valid, y, 0).sum(axis=-1, keepdims=True) / n
        dx = np.where(valid, x - mx, 0)
        dy = np.where(valid, y - my, 0)
        return (dx * dy).sum(axis=(-2, -1)) / (dx * dx).sum(axis=(-2, -1))


def regression(
    switches: np.ndarray,
    elapsed_ns: np.ndarray,
    groups: np.ndarray | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """ns per switch as the slope of elapsed time on switches, the intercept (the fixed
    cost of one timed run), R², a bootstrap CI of the slope and the range of the slopes
    of single processes.

    groups: the worker process of each run. Each process has an intercept of its own
    (on a shared VM a process runs at a level of its own, and a line pooled over
    processes would fit their levels, not the loop), so the slope is the within-process
    one. Its CI resamples processes, then runs within each drawn process, as
    bootstrap_medians does; with fewer than MIN_PROCESSES_FOR_SLOPE_CI processes there is
    no CI, and slope_range_* give the range of the per-process slopes instead."""
    x, y = np.asarray(switches, dtype=float), np.asarray(elapsed_ns, dtype=float)
    groups = np.zeros(len(x), dtype=int) if groups is None else np.asarray(groups)
    keys = ("slope_ns_per_switch", "slope_ci_low", "slope_ci_high", "intercept_ns")
    out = dict.fromkeys((*keys, "r_squared", "slope_range_low", "slope_range_high"), math.nan)
    if len(x) < 3 or np.ptp(x) == 0:
        return out  # one loop count: no slope to fit
    # Each process's runs as one padded row: the order of processes and of runs in
    # them is canonical, so the result depends on the points, not their order.
    clusters = [np.lexsort((y[groups == g], x[groups == g])) for g in np.unique(groups)]
    xs = [x[groups == g][order] for g, order in zip(np.unique(groups), clusters, strict=True)]
    ys = [y[groups == g][order] for g, order in zip(np.unique(groups), clusters, strict=True)]
    sizes = np.array([len(c) for c in xs])
    width = int(sizes.max())
    tx, ty = np.zeros((len(xs), width)), np.zeros((len(xs), width))
    valid = np.arange(width)[None, :] < sizes[:, None]
    for i, (cx, cy) in enumerate(zip(xs, ys, strict=True)):
        tx[i, : len(cx)], ty[i, : len(cy)] = cx, cy
    slope = float(_within_slope(tx, ty, valid))
    if not math.isfinite(slope):
        return out  # every process ran one loop count only
    residual = np.where(
        valid,
        ty
        - (ty * valid).sum(1, keepdims=True) / sizes[:, None]
        - slope * (tx - (tx * valid).sum(1, keepdims=True) / sizes[:, None]),
        0,
    )
    spread = np.where(valid, ty - (ty * valid).sum(1, keepdims=True) / sizes[:, None], 0)
    total = float((spread**2).sum())
    out.update(
        slope_ns_per_switch=slope,
        intercept_ns=float(y.mean() - slope * x.mean()),
        r_squared=1 - float((residual**2).sum()) / total if total > 0 else math.nan,
    )
    each = [_within_slope(tx[i : i + 1], ty[i : i + 1], valid[i : i + 1]) for i in range(len(xs))]
    each = [float(s) for s in each if math.isfinite(float(s))]
    if each:
        out.update(slope_range_low=min(each), slope_range_high=max(each))
    if len(xs) < MIN_PROCESSES_FOR_SLOPE_CI or len(x) < MIN_POINTS_FOR_CI:
        return out
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, len(xs), size=(SLOPE_RESAMPLES, len(xs)))
    within = (rng.random((SLOPE_RESAMPLES, len(xs), width)) * sizes[picked][..., None]).astype(int)
    drawn_valid = np.arange(width)[None, None, :] < sizes[picked][..., None]
    draws = _within_slope(tx[picked[..., None], within], ty[picked[..., None], within], drawn_valid)
    draws = draws[np.isfinite(draws)]  # a resample of one loop count has no slope
    if len(draws) >= SLOPE_RESAMPLES // 2:
        out.update(zip(("slope_ci_low", "slope_ci_high"), percentile_ci(slope, draws), strict=True))
    return out


def trust(
    median: float, low: float, high: float, r_squared: float, processes: int | None = None
) -> str:
    """ "ok", or why a case's figure should not be trusted (several reasons joined by
    "; "). processes: the worker processes the CI rests on, when known."""
    doubts = []
    if median > 0 and math.isfinite(low) and (high - low) / 2 / median > MAX_CI_HALF_WIDTH:
        doubts.append(f"CI ±{(high - low) / 2 / median:.0%} > ±{MAX_CI_HALF_WIDTH:.0%}")
    scope = within_processes(processes)
    if scope and math.isfinite(low):
        doubts.append(f"CI {scope}")
    if math.isfinite(r_squared) and r_squared < MIN_R_SQUARED:
        doubts.append(f"R² {r_squared:.2f} < {MIN_R_SQUARED}")
    return "; ".join(doubts) or "ok"
