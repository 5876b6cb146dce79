"""Timed samples with their mood canary → mood-adjusted medians, their CIs, and their trust.

A regression adjustment on a covariate measured beside each value (as CUPED does with a
pre-period metric): per case, on a log scale,

    log(value) = a + beta * log(canary) + noise,

with one intercept a for the case (POOLED says why), or one for each worker process
(as bench.analysis.stats.regression fits), when beta is the within-process slope. Each
value is then moved to one reference canary level (the case's own median canary in the
summary, a common level in compare), value * (c_ref / canary) ** beta,
and the adjusted median's 95% CI comes from the same two-stage bootstrap as
stats.median_ci (processes, then values within them), with beta re-fitted in every
draw so that the CI carries the fit's own uncertainty, and the same sqrt(n / (n - 1))
widening on a log scale. The raw median and CI are never replaced:
the adjusted ones stand beside them, and `trusted` says which is the headline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.analysis.stats import BOOTSTRAP_RESAMPLES, MIN_PROCESSES_FOR_CI, percentile_ci
from bench.results.schema import SINCE_MOOD

CANARY_COLUMNS = ("canary_before_ns", "canary_after_ns")
# The adjustment is the headline only if the canary explains at least this share of
# the within-process variance of log(value). An adjustment by a covariate that explains
# R² of the variance narrows the spread by sqrt(1 - R²): below 0.2 that is under 10%,
# about what the bootstrap's CI itself wobbles by between two runs of the same data, so
# a gain that small could not be told from luck while the fitted slope still adds its
# own error. The slope's CI must also lie above 0: a busier memory hierarchy can only
# slow a switch, so a slope of 0 or less means the canary is not seeing this case's mood.
MIN_CANARY_R2 = 0.2
# The summary fits one intercept for all of a case's processes (adjust's `pooled`), not
# one each, measured so: the mood moves over seconds, so within one worker process (4
# values, about 0.1 s) the canary barely moves and explains little (within-process R²
# 0.00-0.44, most under 0.1, over 20 cases of two default runs on the shared VM),
# while it does track the levels the processes settled at (correlation of process means
# up to 0.6-0.8 for the C cases), and those levels are what the CI's process resampling
# is wide for. A level that differs for a reason the canary does not see stays in the
# residual, and the bootstrap (processes first) still carries it.
POOLED = True
# Values with a canary needed before a slope is fitted at all (two per parameter, at
# least, beside one intercept per process).
MIN_VALUES_FOR_FIT = 8


@dataclass(frozen=True)
class Adjusted:
    """One case's mood adjustment; NaN where it could not be computed (then `note`)."""

    adjusted_ns: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    beta: float = math.nan
    beta_ci_low: float = math.nan
    beta_ci_high: float = math.nan
    r2: float = math.nan
    canary_ns: float = math.nan  # the case's median canary
    trusted: bool = False
    note: str = "canary unavailable"


def canary_pairs(raw: object, count: int) -> list[tuple[float, float]]:
    """A worker process's canary record (its run metadata, parsed: one [before, after]
    per value) as `count` pairs of ns per load; NaN where the canary was not run, failed
    (null, 0, negative), or the record does not line up with the values."""
    missing = [(math.nan, math.nan)] * count
    if not isinstance(raw, list) or len(raw) != count:
        return missing
    pairs = []
    for pair in raw:
        if not isinstance(pair, list) or len(pair) != 2:
            return missing
        before, after = (
            float(v) if isinstance(v, int | float) and math.isfinite(v) and v > 0 else math.nan
            for v in pair
        )
        pairs.append((before, after))
    return pairs


def stop_half_width(
    values: np.ndarray, pairs: list[tuple[float, float]], groups: np.ndarray
) -> float:
    """The half-width (over the median) of the adjusted CI at the case's own median
    canary, where the adjustment is trusted; NaN where it is not. The runner's stopping
    rule may stop on it: at the case's own level the fit extrapolates least, and the
    run's level (the summary's) is not known until every case has run."""
    canary = np.array([math.sqrt(b * a) for b, a in pairs], dtype=float)
    level = float(np.nanmedian(canary)) if np.isfinite(canary).any() else math.nan
    a = adjust(values, canary, groups, level, pooled=POOLED)
    if not a.trusted:
        return math.nan
    return (a.ci_high - a.ci_low) / 2 / a.adjusted_ns


def canary_of(samples: pd.DataFrame) -> pd.Series:
    """Each timed value's canary: the geometric mean of the chase just before and just
    after it (ns per load); NaN where either is missing (never 0)."""
    if not set(CANARY_COLUMNS) <= set(samples.columns):
        return pd.Series(math.nan, index=samples.index)
    before = pd.to_numeric(samples[CANARY_COLUMNS[0]], errors="coerce")
    after = pd.to_numeric(samples[CANARY_COLUMNS[1]], errors="coerce")
    both = (before > 0) & (after > 0)
    return np.sqrt(before * after).where(both, math.nan)


def reference_level(samples: pd.DataFrame) -> float:
    """The run's median canary over every timed value of every case (NaN if none)."""
    canary = canary_of(samples).dropna()
    return float(canary.median()) if len(canary) else math.nan


def _slopes(
    x: np.ndarray, y: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Within-group least-squares slope of y on x over the last two axes (groups,
    points), and x and y less their group's mean (0 where not valid); vectorised over
    leading axes (the bootstrap's draws)."""
    n = valid.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = np.where(valid, x - np.where(valid, x, 0).sum(-1, keepdims=True) / n, 0)
        dy = np.where(valid, y - np.where(valid, y, 0).sum(-1, keepdims=True) / n, 0)
        beta = (dx * dy).sum(axis=(-2, -1)) / (dx * dx).sum(axis=(-2, -1))
    return beta, dx, dy


def _fit(
    x: np.ndarray, y: np.ndarray, valid: np.ndarray, pooled: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_slopes with one intercept per process, or with one for all (pooled): then the
    processes' rows are joined into one before fitting."""
    if not pooled:
        return _slopes(x, y, valid)
    lead = x.shape[:-2]
    joined = (*lead, 1, x.shape[-2] * x.shape[-1])
    return _slopes(x.reshape(joined), y.reshape(joined), valid.reshape(joined))


def _table(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each process's points as one row padded to the largest, in a canonical order (so
    the result depends on the points, not their order or labels), and the valid mask."""
    rows = []
    for key in np.unique(groups):
        mine = groups == key
        order = np.lexsort((x[mine], y[mine]))
        rows.append((x[mine][order], y[mine][order]))
    rows.sort(key=lambda r: (len(r[0]), r[1].tolist(), r[0].tolist()))
    width = max(len(r[0]) for r in rows)
    tx, ty = np.zeros((len(rows), width)), np.zeros((len(rows), width))
    valid = np.zeros((len(rows), width), dtype=bool)
    for i, (rx, ry) in enumerate(rows):
        tx[i, : len(rx)], ty[i, : len(ry)], valid[i, : len(rx)] = rx, ry, True
    return tx, ty, valid


def _medians(adjusted: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Median of the valid entries of each draw (leading axis); invalid ones sort last."""
    flat = np.sort(np.where(valid, adjusted, np.inf).reshape(len(adjusted), -1), axis=1)
    counts = valid.reshape(len(valid), -1).sum(axis=1)
    rows = np.arange(len(flat))
    return (flat[rows, (counts - 1) // 2] + flat[rows, counts // 2]) / 2


def _not_fitted(note: str, canary_ns: float = math.nan) -> Adjusted:
    return Adjusted(canary_ns=canary_ns, note=note)


def adjust(
    values: np.ndarray,
    canary: np.ndarray,
    groups: np.ndarray,
    reference: float,
    seed: int = 0,
    pooled: bool = False,
) -> Adjusted:
    """The mood-adjusted median of one case's values at canary level `reference`, its
    bootstrap 95% CI (beta re-fitted in every draw), beta and its CI, R², and whether the
    adjustment is to be trusted (trust_note says why not). The slope is fitted within
    processes (an intercept each), or with `pooled` across them (one intercept): then
    the canary may explain why processes settled at different levels, too, and R² is
    the share of the whole variance of log(value) it accounts for."""
    values, canary = np.asarray(values, float), np.asarray(canary, float)
    groups = np.asarray(groups)
    have = np.isfinite(canary) & (canary > 0) & np.isfinite(values) & (values > 0)
    median_canary = float(np.median(canary[have])) if have.any() else math.nan
    if not have.all():
        missing = int((~have).sum())
        return _not_fitted(
            f"canary unavailable for {missing} of {len(values)} values", median_canary
        )
    if not (math.isfinite(reference) and reference > 0):
        return _not_fitted("no reference canary level", median_canary)
    if len(values) < MIN_VALUES_FOR_FIT:
        return _not_fitted(f"{len(values)} values < {MIN_VALUES_FOR_FIT}", median_canary)
    tx, ty, valid = _table(np.log(canary), np.log(values), groups)
    fit, dx0, dy0 = _fit(tx, ty, valid, pooled)
    beta = float(fit)
    if not math.isfinite(beta):
        return _not_fitted("the canary did not vary within any process", median_canary)
    # R²: the share of log(value)'s variance about each process's own mean (or, pooled,
    # about the mean of all) that the canary accounts for.
    total = float((dy0**2).sum())
    r2 = 1 - float(((dy0 - beta * dx0) ** 2).sum()) / total if total > 0 else math.nan
    log_ref = math.log(reference)
    estimate = float(np.exp(np.median(ty[valid] - beta * (tx[valid] - log_ref))))

    rng = np.random.default_rng(seed)
    processes, width = tx.shape
    sizes = valid.sum(axis=1)
    picked = rng.integers(0, processes, size=(BOOTSTRAP_RESAMPLES, processes))
    within = rng.random((BOOTSTRAP_RESAMPLES, processes, width)) * sizes[picked][..., None]
    within = within.astype(int)
    drawn_valid = np.arange(width)[None, None, :] < sizes[picked][..., None]
    dx, dy = tx[picked[..., None], within], ty[picked[..., None], within]
    betas = _fit(dx, dy, drawn_valid, pooled)[0]
    fitted = np.isfinite(betas)
    betas = np.where(fitted, betas, beta)  # a draw whose canary never varied: the fit's beta
    medians = _medians(dy - betas[:, None, None] * (dx - log_ref), drawn_valid)
    low, high = percentile_ci(math.log(estimate), medians)
    beta_low, beta_high = percentile_ci(beta, betas[fitted]) if fitted.any() else (math.nan,) * 2
    # The bootstrap takes the n processes it has for the whole population: widened by
    # sqrt(n / (n - 1)) on the log scale, as stats.median_ci does.
    widen = math.sqrt(processes / (processes - 1)) if processes > 1 else 1.0
    log_est = math.log(estimate)
    ci_low = math.exp(log_est - (log_est - low) * widen)
    ci_high = math.exp(log_est + (high - log_est) * widen)
    note = trust_note(processes, len(values), r2, beta_low)
    return Adjusted(
        adjusted_ns=estimate,
        ci_low=ci_low,
        ci_high=ci_high,
        beta=beta,
        beta_ci_low=beta_low,
        beta_ci_high=beta_high,
        r2=r2,
        canary_ns=median_canary,
        trusted=note == "",
        note=note,
    )


def trust_note(processes: int, values: int, r2: float, beta_ci_low: float) -> str:
    """'' when the adjusted figure may be the headline; else why the raw one stays."""
    doubts = []
    if processes < MIN_PROCESSES_FOR_CI:
        doubts.append(f"{processes} processes < {MIN_PROCESSES_FOR_CI}")
    if not (math.isfinite(r2) and r2 >= MIN_CANARY_R2):
        doubts.append(f"canary R² {r2:.2f} < {MIN_CANARY_R2}")
    if not (math.isfinite(beta_ci_low) and beta_ci_low > 0):
        doubts.append("slope's CI reaches 0")
    return "; ".join(doubts)


def summary_columns(
    samples: pd.DataFrame, case_ids: list[str], reference: float | None = None
) -> pd.DataFrame:
    """summary.csv's mood columns for each case (index: case id), from its timed samples
    (with canary columns) at `reference`, or by default at the case's own median canary.

    The case's own level, as CUPED centres on the covariate's own mean: the adjustment
    then takes out how the machine's mood moved during the case and nothing else. The
    run's median would also move each case to a level it never ran at, extrapolating
    with the fitted slope (a case's own working set sets its canary level too), which
    widens the CI by the slope's uncertainty without making it any more precise."""
    timed = samples[samples["kind"] == "timed"] if "kind" in samples.columns else samples
    rows = {}
    for case in case_ids:
        mine = timed[timed["case"] == case]
        if mine.empty:
            rows[case] = {"mood_note": ""}
            continue
        level = reference_level(mine) if reference is None else reference
        a = adjust(
            mine["ns_per_switch"].to_numpy(float),
            canary_of(mine).to_numpy(float),
            mine["process"].to_numpy(),
            level,
            pooled=POOLED,
        )
        rows[case] = {
            "adjusted_ns": a.adjusted_ns,
            "adjusted_ci_low": a.ci_low,
            "adjusted_ci_high": a.ci_high,
            "canary_r2": a.r2,
            "canary_beta": a.beta,
            "canary_beta_ci_low": a.beta_ci_low,
            "canary_beta_ci_high": a.beta_ci_high,
            "canary_ns": a.canary_ns,
            "canary_ref_ns": level if math.isfinite(a.adjusted_ns) else math.nan,
            # 1 or 0 where a fit was made; blank where none could be (no canary, too few values).
            "mood_adjusted": float(a.trusted) if math.isfinite(a.adjusted_ns) else math.nan,
            "mood_note": a.note,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def with_mood(summary: pd.DataFrame, samples: pd.DataFrame) -> pd.DataFrame:
    """summary with its mood columns (SINCE_MOOD) filled in for the measured cases; a
    case without its canary says so in mood_note, while a run without any (one made
    before the canary) leaves them all blank."""
    out = summary.copy()
    ok = out.loc[out["status"] == "ok", "case"].astype(str).tolist()
    timed = samples[samples["kind"] == "timed"] if "kind" in samples.columns else samples
    if not ok or canary_of(timed).isna().all():
        return out  # a run that measured no canary at all: its columns stay not measured
    mood = summary_columns(samples, ok)
    for column in SINCE_MOOD:
        if column in mood.columns:
            values = out["case"].map(mood[column])
            out[column] = values.where(out["status"] == "ok", out[column])
    return out


def adjusted_at(samples: pd.DataFrame, case: str, level: float) -> Adjusted:
    """One case's adjustment (as the summary makes it) at a canary level of the caller's:
    compare's common level for two runs of one machine."""
    timed = samples[samples["kind"] == "timed"] if "kind" in samples.columns else samples
    mine = timed[timed["case"] == case]
    if mine.empty:
        return _not_fitted("not measured")
    return adjust(
        mine["ns_per_switch"].to_numpy(float),
        canary_of(mine).to_numpy(float),
        mine["process"].to_numpy(),
        level,
        pooled=POOLED,
    )


def common_level(samples: list[pd.DataFrame]) -> float:
    """The median canary over every timed value of several runs (NaN if one has none:
    a level the runs do not all share is no common level)."""
    levels = [reference_level(s) for s in samples]
    if not levels or any(math.isnan(x) for x in levels):
        return math.nan
    return reference_level(pd.concat(samples, ignore_index=True))
