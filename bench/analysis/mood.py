"""Timed samples with their mood covariates → mood-adjusted medians, their CIs, and trust.

A regression adjustment on covariates measured beside each value (as CUPED does with a
pre-period metric): per case, on a log scale,

    log(value) = a + sum_k beta_k * log(x_k) + noise,

with one intercept a for the case (POOLED says why), or one for each worker process
(as bench.analysis.stats.regression fits), when the betas are within-process slopes.
The covariates (COVARIATES) are the mood canary (a memory-latency chase just before and
just after the value) and, where the case keeps one CPU busy throughout, the CPU share
(the share of the value's wall time the case's process was on a CPU). Each value is
then moved to one reference level (the case's own medians in the summary, common levels
in compare), value * prod_k (x_ref_k / x_k) ** beta_k, and the adjusted median's 95% CI
comes from the same two-stage bootstrap as stats.median_ci (processes, then values
within them; the same draws, so that with nothing to adjust the two CIs coincide), with
the betas re-fitted in every draw so that the CI carries the fit's own uncertainty, and
the same sqrt(n / (n - 1)) widening on a log scale. The raw median and CI are never
replaced: the adjusted ones stand beside them, and `trusted` says which is the headline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from bench.analysis import mood_fit, stats
from bench.results.schema import SINCE_MOOD, SINCE_MOOD_SHARE

CANARY_COLUMNS = ("canary_before_ns", "canary_after_ns")
SHARE_COLUMN = "cpu_share"
# The adjustment is the headline only if the covariates explain at least this share of
# the variance of log(value). An adjustment by covariates that explain R² of the
# variance narrows the spread by sqrt(1 - R²): below 0.2 that is under 10%, about what
# the bootstrap's CI itself wobbles by between two runs of the same data, so a gain that
# small could not be told from luck while the fitted slopes still add their own error.
MIN_CANARY_R2 = 0.2
# The summary fits one intercept for all of a case's processes (adjust's `pooled`), not
# one each, measured so: the mood moves over seconds, so within one worker process (4
# values, about 0.1 s) the canary barely moves and explains little (within-process R²
# 0.00-0.44, most under 0.1, over 20 cases of two default runs on the shared VM),
# while it does track the levels the processes settled at (correlation of process means
# up to 0.6-0.8 for the C cases), and those levels are what the CI's process resampling
# is wide for. A level that differs for a reason the covariates do not see stays in the
# residual, and the bootstrap (processes first) still carries it.
POOLED = True
# Values with covariates needed before slopes are fitted at all (two per parameter, at
# least, beside one intercept per process).
MIN_VALUES_FOR_FIT = 8
# The CPU share is a covariate only where the case keeps one CPU busy throughout: its
# median share within this of 1. There the CPU's time goes to the case or is taken from
# it (other tasks, the hypervisor's steal), which is the machine's mood. A case that
# sleeps or spreads over CPUs has a share of its own making (a slow wake-up leaves a CPU
# idle and lowers the share with the value): adjusting for that would take out the
# case's own variation, not the machine's.
ONE_CPU_SHARE = 0.05
# ... and only where it varied by more than this (sd of its log): undisturbed it sits at
# 1 within the clock reads' own jitter, and a covariate that cannot move the values
# would only add the fit's uncertainty (with the slope of -1 a saturated CPU implies, a
# spread of 0.1% moves the values by 0.1%, a tenth of the narrowest CIs a run reaches).
MIN_SHARE_SD = 0.001


@dataclass(frozen=True)
class Covariate:
    """One mood covariate: its column in covariates_of's frame and the sign its slope
    must have (on a log scale) for the adjustment to be believed."""

    name: str
    sign: int
    why: str


COVARIATES = (
    Covariate("canary", 1, "a busier memory hierarchy can only slow a switch"),
    Covariate(SHARE_COLUMN, -1, "less of the wall time on a CPU can only make it longer"),
)


@dataclass(frozen=True)
class Adjusted:
    """One case's mood adjustment; NaN where it could not be computed (then `note`).
    beta and its CI are the canary's slope; share_beta the CPU share's (NaN where that
    covariate was not in the fit); r2 the whole fit's, canary_r2 the canary's alone."""

    adjusted_ns: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    beta: float = math.nan
    beta_ci_low: float = math.nan
    beta_ci_high: float = math.nan
    share_beta: float = math.nan
    share_beta_ci_low: float = math.nan
    share_beta_ci_high: float = math.nan
    r2: float = math.nan
    canary_r2: float = math.nan
    canary_ns: float = math.nan  # the case's median canary
    cpu_share: float = math.nan  # the case's median CPU share
    trusted: bool = False
    note: str = "canary unavailable"
    # The bootstrap's adjusted log medians, before the sqrt(n / (n - 1)) widening: for
    # a ratio's CI between two runs (bench.analysis.mood_compare), as ratio_ci draws.
    drawn: np.ndarray | None = field(default=None, repr=False, compare=False)


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
        before, after = (_positive(v) for v in pair)
        pairs.append((before, after))
    return pairs


def share_values(raw: object, count: int) -> list[float]:
    """A worker process's CPU-share record (one number or null per value) as `count`
    floats; NaN where it was not measured (null, not a finite number, negative) or the
    record does not line up with the values. Never 0 for a missing one (a measured 0
    stays 0 in samples.csv; covariates_of does not take it, having no log)."""
    if not isinstance(raw, list) or len(raw) != count:
        return [math.nan] * count
    return [
        float(v)
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
        else math.nan
        for v in raw
    ]


def _positive(v: object) -> float:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
    return float(v) if ok else math.nan  # type: ignore[arg-type]


def stop_half_width(
    values: np.ndarray,
    pairs: list[tuple[float, float]],
    groups: np.ndarray,
    shares: list[float] | None = None,
) -> float:
    """The half-width (over the median) of the adjusted CI at the case's own median
    covariates, where the adjustment is trusted; NaN where it is not. The runner's
    stopping rule may stop on it: at the case's own levels the fit extrapolates least,
    and the run's levels (compare's) are not known until every case has run."""
    canary = np.array([math.sqrt(b * a) for b, a in pairs], dtype=float)
    share = np.array(shares if shares is not None else [math.nan] * len(pairs), dtype=float)
    x = np.column_stack([canary, share])
    a = adjust(values, x, groups, own_levels(x), pooled=POOLED)
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


def covariates_of(samples: pd.DataFrame) -> np.ndarray:
    """Each value's covariates in COVARIATES' order (canary, CPU share), NaN where not
    measured: an (n, 2) array."""
    if SHARE_COLUMN in samples.columns:
        share = pd.to_numeric(samples[SHARE_COLUMN], errors="coerce")
        share = share.where(share > 0, math.nan)
    else:
        share = pd.Series(math.nan, index=samples.index)
    return np.column_stack([canary_of(samples).to_numpy(float), share.to_numpy(float)])


def own_levels(x: np.ndarray) -> np.ndarray:
    """The median of each covariate's column over the values that have it (NaN if none)."""
    out = np.full(x.shape[1], math.nan)
    for k in range(x.shape[1]):
        have = x[:, k][np.isfinite(x[:, k])]
        if len(have):
            out[k] = float(np.median(have))
    return out


def reference_level(samples: pd.DataFrame) -> float:
    """The run's median canary over every timed value of every case (NaN if none)."""
    canary = canary_of(samples).dropna()
    return float(canary.median()) if len(canary) else math.nan


def _capped(share: np.ndarray) -> np.ndarray:
    """The CPU share as the fit takes it: at most 1. A one-CPU case's process gets above
    1 only when threads of its own beside the case ran too (the Go runtime's, pyperf's),
    which is no mood; what the machine took from it shows as a share below 1."""
    return np.minimum(share, 1.0)


def _usable(
    x: np.ndarray, have_values: np.ndarray, reference: np.ndarray
) -> tuple[list[int], list[str]]:
    """Which covariates enter the fit, and why each other one does not (decided from the
    covariates alone, never from how well they would explain the values)."""
    used, left_out = [], []
    for k, covariate in enumerate(COVARIATES[: x.shape[1]]):
        column = x[:, k]
        have = np.isfinite(column) & (column > 0)
        name = covariate.name.replace("_", " ")
        if not have.any():
            left_out.append(f"{name} unavailable")
        elif not have[have_values].all():
            missing = int((~have[have_values]).sum())
            left_out.append(f"{name} unavailable for {missing} of {int(have_values.sum())} values")
        elif not (math.isfinite(reference[k]) and reference[k] > 0):
            left_out.append(f"no reference {name} level")
        elif covariate.name == SHARE_COLUMN and abs(np.median(column) - 1) > ONE_CPU_SHARE:
            left_out.append(f"cpu share {np.median(column):.2f}: not one busy CPU")
        elif covariate.name == SHARE_COLUMN and np.std(np.log(_capped(column))) < MIN_SHARE_SD:
            left_out.append("cpu share did not vary")
        else:
            used.append(k)
    return used, left_out


def adjust(
    values: np.ndarray,
    covariates: np.ndarray,
    groups: np.ndarray,
    reference: float | np.ndarray,
    seed: int = 0,
    pooled: bool = False,
) -> Adjusted:
    """The mood-adjusted median of one case's values at the covariates' reference
    levels, its bootstrap 95% CI (slopes re-fitted in every draw), the slopes and their
    CIs, R², and whether the adjustment is to be trusted (trust_note says why not).
    `covariates` is one canary per value, or an (n, k) array in COVARIATES' order, with
    one reference level each. The slopes are fitted within processes (an intercept
    each), or with `pooled` across them (one intercept): then the covariates may explain
    why processes settled at different levels, too."""
    values, groups = np.asarray(values, float), np.asarray(groups)
    x = np.asarray(covariates, float).reshape(len(values), -1)
    ref = np.broadcast_to(np.asarray(reference, float), (x.shape[1],))
    medians = own_levels(np.where(x > 0, x, math.nan))
    median_canary = float(medians[0])
    median_share = float(medians[1]) if x.shape[1] > 1 else math.nan
    have_values = np.isfinite(values) & (values > 0)
    if not have_values.all():
        return Adjusted(canary_ns=median_canary, cpu_share=median_share, note="values missing")
    used, left_out = _usable(x, have_values, ref)
    none = Adjusted(canary_ns=median_canary, cpu_share=median_share)
    if not used:
        return replace(none, note="; ".join(left_out))
    if len(values) < MIN_VALUES_FOR_FIT:
        return replace(none, note=f"{len(values)} values < {MIN_VALUES_FOR_FIT}")
    share = [COVARIATES[k].name == SHARE_COLUMN for k in used]
    x = np.where(share, _capped(x[:, used]), x[:, used])
    ref = np.where(share, _capped(ref[used]), ref[used])
    tx, ty, valid = mood_fit.table(np.log(x), np.log(values), groups)
    signs = np.array([COVARIATES[k].sign for k in used])
    beta, dx0, dy0 = mood_fit.fit(tx, ty, valid, pooled, signs)
    beta = beta.reshape(-1)
    if not np.isfinite(beta).all():
        return replace(none, note="the covariates did not vary within any process")
    r2 = mood_fit.r_squared(beta, dx0, dy0)
    canary_r2 = _alone_r2(dx0, dy0, used)
    log_ref = np.log(ref)
    log_est = float(np.median(ty[valid] - (tx[valid] - log_ref) @ beta))
    drawn, betas, fitted = mood_fit.bootstrap(tx, ty, valid, beta, log_ref, pooled, seed, signs)
    low, high = stats.percentile_ci(log_est, drawn)
    # The bootstrap takes the n processes it has for the whole population: widened by
    # sqrt(n / (n - 1)) on the log scale, as stats.median_ci does.
    processes = len(ty)
    widen = math.sqrt(processes / (processes - 1)) if processes > 1 else 1.0
    slopes = {}
    for j, k in enumerate(used):
        ci = stats.percentile_ci(beta[j], betas[fitted, j]) if fitted.any() else (math.nan,) * 2
        slopes[COVARIATES[k].name] = (float(beta[j]), *ci)
    ci_low = math.exp(log_est - (log_est - low) * widen)
    ci_high = math.exp(log_est + (high - log_est) * widen)
    # The raw CI as the summary gives it: stats.median_ci draws the same resamples.
    raw_median, raw_low, raw_high = stats.median_ci(values, groups, seed)
    doubts = trust_note(
        processes,
        r2,
        (ci_high - ci_low) / 2 / math.exp(log_est),
        (raw_high - raw_low) / 2 / raw_median,
    )
    canary = slopes.get("canary", (math.nan,) * 3)
    share = slopes.get(SHARE_COLUMN, (math.nan,) * 3)
    return Adjusted(
        adjusted_ns=math.exp(log_est),
        ci_low=ci_low,
        ci_high=ci_high,
        beta=canary[0],
        beta_ci_low=canary[1],
        beta_ci_high=canary[2],
        share_beta=share[0],
        share_beta_ci_low=share[1],
        share_beta_ci_high=share[2],
        r2=r2,
        canary_r2=canary_r2,
        canary_ns=median_canary,
        cpu_share=median_share,
        trusted=doubts == "",
        note="; ".join(n for n in (doubts, *left_out) if n),
        drawn=drawn,
    )


def _alone_r2(dx: np.ndarray, dy: np.ndarray, used: list[int]) -> float:
    """R² of the canary alone (NaN where it is not in the fit)."""
    if 0 not in used:
        return math.nan
    x, y = dx[..., used.index(0)].ravel(), dy.ravel()
    sxx, syy = float(x @ x), float(y @ y)
    return float((x @ y) ** 2 / (sxx * syy)) if sxx > 0 and syy > 0 else math.nan


def trust_note(
    processes: int,
    r2: float,
    adjusted_half: float,
    raw_half: float,
) -> str:
    """'' when the adjusted figure may be the headline; else why the raw one stays.

    - The CI must rest on stats.MIN_PROCESSES_FOR_CI processes, as the raw one must.
    - The fit must explain R² ≥ MIN_CANARY_R2 of the variance.
    - The adjusted CI must be narrower than the raw one. Both come from the same
      bootstrap draws, and the adjusted one re-fits the slopes in each, so this asks
      whether what the fit explains outweighs the fit's own uncertainty on this data.
      (The slopes' own percentile CIs are no guard here: with 4 processes, one draw in
      eight holds processes from one side of the mood only, where the slope is a guess,
      and the slope's CI then reaches 0 even when the adjusted median's CI narrows.)"""
    doubts = []
    if processes < stats.MIN_PROCESSES_FOR_CI:
        doubts.append(f"{processes} processes < {stats.MIN_PROCESSES_FOR_CI}")
    if not (math.isfinite(r2) and r2 >= MIN_CANARY_R2):
        doubts.append(f"R² {r2:.2f} < {MIN_CANARY_R2}")
    if not adjusted_half < raw_half:
        doubts.append(f"adjusted CI ±{adjusted_half:.1%} not narrower than raw ±{raw_half:.1%}")
    return "; ".join(doubts)


def _columns(a: Adjusted, levels: np.ndarray) -> dict[str, object]:
    fitted = math.isfinite(a.adjusted_ns)
    return {
        "adjusted_ns": a.adjusted_ns,
        "adjusted_ci_low": a.ci_low,
        "adjusted_ci_high": a.ci_high,
        "canary_r2": a.canary_r2,
        "canary_beta": a.beta,
        "canary_beta_ci_low": a.beta_ci_low,
        "canary_beta_ci_high": a.beta_ci_high,
        "canary_ns": a.canary_ns,
        "canary_ref_ns": levels[0] if fitted and math.isfinite(a.beta) else math.nan,
        # 1 or 0 where a fit was made; blank where none could be (no canary, too few values).
        "mood_adjusted": float(a.trusted) if fitted else math.nan,
        "mood_note": a.note,
        "mood_r2": a.r2,
        "cpu_share": a.cpu_share,
        "cpu_share_ref": levels[1] if fitted and math.isfinite(a.share_beta) else math.nan,
        "share_beta": a.share_beta,
        "share_beta_ci_low": a.share_beta_ci_low,
        "share_beta_ci_high": a.share_beta_ci_high,
    }


def _timed(samples: pd.DataFrame) -> pd.DataFrame:
    return samples[samples["kind"] == "timed"] if "kind" in samples.columns else samples


def summary_columns(
    samples: pd.DataFrame, case_ids: list[str], reference: np.ndarray | None = None
) -> pd.DataFrame:
    """summary.csv's mood columns for each case (index: case id), from its timed samples
    (with covariate columns) at `reference` levels, or by default at the case's own
    medians.

    The case's own levels, as CUPED centres on the covariate's own mean: the adjustment
    then takes out how the machine's mood moved during the case and nothing else. The
    run's medians would also move each case to a level it never ran at, extrapolating
    with the fitted slopes (a case's own working set sets its canary level too), which
    widens the CI by the slopes' uncertainty without making it any more precise."""
    timed = _timed(samples)
    rows = {}
    for case in case_ids:
        mine = timed[timed["case"] == case]
        if mine.empty:
            rows[case] = {"mood_note": ""}
            continue
        x = covariates_of(mine)
        levels = own_levels(x) if reference is None else reference
        a = adjust(
            mine["ns_per_switch"].to_numpy(float),
            x,
            mine["process"].to_numpy(),
            levels,
            pooled=POOLED,
        )
        rows[case] = _columns(a, levels)
    return pd.DataFrame.from_dict(rows, orient="index")


def with_mood(summary: pd.DataFrame, samples: pd.DataFrame) -> pd.DataFrame:
    """summary with its mood columns (SINCE_MOOD, SINCE_MOOD_SHARE) filled in for the
    measured cases; a case without its covariates says so in mood_note, while a run
    without any (one made before them) leaves them all blank."""
    out = summary.copy()
    ok = out.loc[out["status"] == "ok", "case"].astype(str).tolist()
    if not ok or np.isnan(covariates_of(_timed(samples))).all():
        return out  # a run that measured no covariate at all: its columns stay not measured
    mood = summary_columns(samples, ok)
    for column in (*SINCE_MOOD, *SINCE_MOOD_SHARE):
        if column in mood.columns:
            values = out["case"].map(mood[column])
            out[column] = values.where(out["status"] == "ok", out[column])
    return out


def adjusted_at(samples: pd.DataFrame, case: str, levels: np.ndarray, seed: int = 0) -> Adjusted:
    """One case's adjustment (as the summary makes it) at covariate levels of the
    caller's: compare's common levels for two runs of one machine."""
    mine = _timed(samples)[_timed(samples)["case"] == case]
    if mine.empty:
        return Adjusted(note="not measured")
    return adjust(
        mine["ns_per_switch"].to_numpy(float),
        covariates_of(mine),
        mine["process"].to_numpy(),
        levels,
        seed=seed,
        pooled=POOLED,
    )


def common_levels(samples: list[pd.DataFrame], case: str) -> np.ndarray:
    """One case's common covariate levels over several runs: the median of each over the
    case's timed values in all of them (NaN where one run lacks it: a level the runs do
    not all share is no common level). The case's own, not the runs' over every case:
    a case's working set sets its canary level too, and moving a case to a level it
    never ran at would extrapolate with the fitted slopes."""
    columns = []
    for s in samples:
        mine = _timed(s)[_timed(s)["case"] == case]
        columns.append(covariates_of(mine))
    joined = np.concatenate(columns) if columns else np.full((0, len(COVARIATES)), math.nan)
    levels = own_levels(np.where(joined > 0, joined, math.nan))
    for x in columns:
        levels[~np.isfinite(x).any(axis=0)] = math.nan
    return levels
