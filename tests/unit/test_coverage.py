"""The bootstrap CIs cover what they claim to, by simulation with a known truth.

Each simulated run has the shape of a real one (5 to 8 worker processes of 4 values,
or of 4 timed runs at loop counts L/8, L/4, L/2 and L) and the process-level effects
the CIs are built for: each worker process runs at a level of its own (a lognormal
factor, sd 3%) and each value scatters around it (sd 2%). A 95% CI must then hold the
truth of the generating model 90-98% of the time over many simulated runs. A second
test of each kind breaks the interval on purpose (the bootstrap made to ignore the
processes) and shows that the simulation sees it: coverage falls below 90%.

From MIN_PROCESSES_FOR_CI processes, the fewest a CI is taken to cover processes from,
the median's CI must cover too: from 3, before bench widened the interval by
sqrt(n / (n - 1)) and raised that minimum to 4, this test found it did not.

Everything is seeded, so the figures are the same on every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from bench.analysis import comparison, stats

PROCESS_SD = 0.03  # sd of log(process factor): the level each worker process settles at
VALUE_SD = 0.02  # sd of log(value noise) around that level
VALUES_PER_PROCESS = 4
PROCESS_COUNTS = (5, 6, 7, 8)
COVERAGE_LOW, COVERAGE_HIGH = 0.90, 0.98


@pytest.fixture(autouse=True)
def _fewer_resamples(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each simulated median or ratio CI from 1999 resamples rather than the suite's
    4999 (the slope's already are), so that the thousands of them fit the fast subset:
    what coverage measures is the interval's construction (which units are resampled,
    the widening). Fewer resamples narrow the interval's ends a little on average, so
    if anything this is the stricter test; at 999 the fewest-processes case came too
    close to the band's lower edge, at 1999 it covers as at 4999."""
    monkeypatch.setattr(stats, "BOOTSTRAP_RESAMPLES", 1999)


TRUTH_NS = 130.0

LOOP = 262_144  # switches in one timed run at the full loop count
LOOP_COUNTS = np.array([LOOP // 8, LOOP // 4, LOOP // 2, LOOP], dtype=float)
TRUE_SLOPE_NS = 120.0
INTERCEPT_NS = 50_000.0  # each process's fixed cost per run scatters around this


def generator(seed: int) -> np.random.Generator:
    """The simulation's own generator, built without np.random.default_rng so that a
    test may replace that function for the code under test only."""
    return np.random.Generator(np.random.PCG64(seed))


def simulated_run(
    rng: np.random.Generator, truth: float, processes: int, values: int = VALUES_PER_PROCESS
) -> tuple[np.ndarray, np.ndarray]:
    """(values, their worker process) of one run: value = truth * process factor *
    value noise, both factors lognormal with median 1.

    The truth: log(value) = log(truth) + PROCESS_SD·Z_process + VALUE_SD·Z_value, a
    normal variable symmetric about log(truth), so the population median of a value
    (over processes and over the values within them) is `truth` exactly."""
    factor = np.exp(PROCESS_SD * rng.standard_normal(processes))
    noise = np.exp(VALUE_SD * rng.standard_normal((processes, values)))
    samples = truth * factor[:, None] * noise
    return samples.ravel(), np.repeat(np.arange(1, processes + 1), values)


def simulated_sized_runs(
    rng: np.random.Generator, slope: float, processes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(switches, elapsed ns, worker process) of the sized runs of one case: every
    process runs each loop count of LOOP_COUNTS once, and

        elapsed = intercept_process + slope * switches * factor_process * noise_run

    with a fixed cost of each process's own (lognormal around INTERCEPT_NS), and the
    process factor and the run noise lognormal with *mean* 1 (exp(sd·Z - sd²/2)).

    The truth: within one process E[elapsed | switches] = intercept + slope * factor *
    switches, so its line's slope is slope * factor; every process runs the same loop
    counts, so the within-process least-squares slope (one intercept per process) is
    the plain mean of the processes' slopes, whose expectation over processes is
    slope * E[factor] = slope exactly."""
    factor = np.exp(PROCESS_SD * rng.standard_normal(processes) - PROCESS_SD**2 / 2)
    intercept = INTERCEPT_NS * np.exp(0.5 * rng.standard_normal(processes))
    noise = np.exp(VALUE_SD * rng.standard_normal((processes, len(LOOP_COUNTS))) - VALUE_SD**2 / 2)
    elapsed = intercept[:, None] + slope * LOOP_COUNTS[None, :] * factor[:, None] * noise
    switches = np.tile(LOOP_COUNTS, processes)
    return switches, elapsed.ravel(), np.repeat(np.arange(1, processes + 1), len(LOOP_COUNTS))


def shapes(repetitions: int, counts: tuple[int, ...]) -> Iterator[int]:
    """The process count of each repetition, cycling through counts."""
    for i in range(repetitions):
        yield counts[i % len(counts)]


def median_coverage(repetitions: int, seed: int, counts: tuple[int, ...]) -> float:
    """The share of simulated runs whose median CI (by process) holds the true median."""
    rng = generator(seed)
    hits = 0
    for processes in shapes(repetitions, counts):
        values, groups = simulated_run(rng, TRUTH_NS, processes)
        _, low, high = stats.median_ci(values, groups)
        hits += low <= TRUTH_NS <= high
    return hits / repetitions


def ratio_coverage(repetitions: int, seed: int, counts: tuple[int, ...]) -> float:
    """The share of simulated pairs of runs whose ratio CI holds the true ratio; the two
    runs of a pair have process counts of their own."""
    rng = generator(seed)
    truth_a, truth_b = TRUTH_NS, TRUTH_NS * 1.25
    true_ratio = truth_b / truth_a
    hits = 0
    for i, processes in enumerate(shapes(repetitions, counts)):
        a, groups_a = simulated_run(rng, truth_a, processes)
        b, groups_b = simulated_run(rng, truth_b, counts[(i * 3 + 1) % len(counts)])
        _, low, high = comparison.ratio_ci(a, b, groups_a, groups_b)
        hits += low <= true_ratio <= high
    return hits / repetitions


def slope_coverage(repetitions: int, seed: int, counts: tuple[int, ...]) -> float:
    """The share of simulated cases whose slope CI holds the true slope."""
    rng = generator(seed)
    hits = 0
    for processes in shapes(repetitions, counts):
        switches, elapsed, groups = simulated_sized_runs(rng, TRUE_SLOPE_NS, processes)
        fit = stats.regression(switches, elapsed, groups)
        low, high = fit["slope_ci_low"], fit["slope_ci_high"]
        assert math.isfinite(low) and math.isfinite(high), fit  # 5+ processes: a CI
        hits += low <= TRUE_SLOPE_NS <= high
    return hits / repetitions


# ---- the truth of the model, checked by brute force ------------------------------


def test_the_models_truths_are_what_the_coverage_tests_take_them_to_be():
    """The population median and the expected within-process slope, by a huge
    simulation (no bench code involved), agree with the analytic truths above."""
    rng = generator(1)
    values, _ = simulated_run(rng, TRUTH_NS, 200_000, VALUES_PER_PROCESS)
    assert np.median(values) == pytest.approx(TRUTH_NS, rel=3e-4)
    switches, elapsed, _ = simulated_sized_runs(rng, TRUE_SLOPE_NS, 200_000)
    x = switches.reshape(-1, len(LOOP_COUNTS))
    y = elapsed.reshape(-1, len(LOOP_COUNTS))
    dx = x - x.mean(axis=1, keepdims=True)
    dy = y - y.mean(axis=1, keepdims=True)
    within = float((dx * dy).sum() / (dx * dx).sum())
    assert within == pytest.approx(TRUE_SLOPE_NS, rel=3e-4)


# ---- the median's CI ---------------------------------------------------------------

MEDIAN_REPS = 1500
# Intervals that miss by far need fewer repetitions to show it (for the broken ones,
# the first of the same simulated runs).
FEW_REPS = 600


def test_the_median_ci_covers_the_population_median():
    coverage = median_coverage(MEDIAN_REPS, seed=2024, counts=PROCESS_COUNTS)
    assert COVERAGE_LOW <= coverage <= COVERAGE_HIGH, coverage


def _bootstrap_ignoring_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """bootstrap_medians made to resample values as if each were its own process,
    wherever the code under test calls it."""
    original = stats.bootstrap_medians

    def naive(values: np.ndarray, groups: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
        return original(values, None, seed)

    monkeypatch.setattr(stats, "bootstrap_medians", naive)
    if hasattr(comparison, "bootstrap_medians"):  # imported by name there
        monkeypatch.setattr(comparison, "bootstrap_medians", naive)


def test_a_median_ci_that_ignores_processes_is_seen_to_under_cover(monkeypatch):
    """The simulation can tell: resampling values as if independent (groups=None)
    gives intervals too narrow for process-level effects, and coverage falls."""
    _bootstrap_ignoring_processes(monkeypatch)
    coverage = median_coverage(FEW_REPS, seed=2024, counts=PROCESS_COUNTS)
    assert coverage < COVERAGE_LOW, coverage


def test_the_median_ci_from_the_fewest_processes_it_counts_covers_the_median():
    """From MIN_PROCESSES_FOR_CI on, the summary and compare take a CI as covering
    processes: there it must. (From 3, before median_ci widened its arms and the
    minimum rose to 4, it covered 82% of the time.)"""
    coverage = median_coverage(FEW_REPS, seed=2025, counts=(stats.MIN_PROCESSES_FOR_CI,))
    assert COVERAGE_LOW <= coverage <= COVERAGE_HIGH, coverage


# ---- compare's ratio CI ------------------------------------------------------------

RATIO_REPS = 1000


def test_the_ratio_ci_covers_the_true_ratio():
    coverage = ratio_coverage(RATIO_REPS, seed=7, counts=PROCESS_COUNTS)
    assert COVERAGE_LOW <= coverage <= COVERAGE_HIGH, coverage


def test_a_ratio_ci_that_ignores_processes_is_seen_to_under_cover(monkeypatch):
    _bootstrap_ignoring_processes(monkeypatch)
    coverage = ratio_coverage(FEW_REPS, seed=7, counts=PROCESS_COUNTS)
    assert coverage < COVERAGE_LOW, coverage


# ---- the regression slope's CI -------------------------------------------------------

SLOPE_REPS = 1500


def test_the_slope_ci_covers_the_true_slope():
    assert stats.MIN_PROCESSES_FOR_SLOPE_CI <= min(PROCESS_COUNTS)
    coverage = slope_coverage(SLOPE_REPS, seed=99, counts=PROCESS_COUNTS)
    assert COVERAGE_LOW <= coverage <= COVERAGE_HIGH, coverage


class _EveryProcessOnce:
    """A numpy Generator whose integers() draws every process exactly once in each
    resample: a bootstrap over runs within processes only, blind to how processes
    differ. Everything else is the real generator's."""

    def __init__(self, real: np.random.Generator) -> None:
        self._real = real

    def integers(self, low: int, high: int | None = None, size: object = None) -> np.ndarray:
        assert high is not None and isinstance(size, tuple) and size[-1] == high
        return np.broadcast_to(np.arange(high), size).copy()

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


def test_a_slope_ci_that_ignores_processes_is_seen_to_under_cover(monkeypatch):
    """regression's bootstrap draws processes with rng.integers, then runs within them;
    with every process drawn once, only the runs are resampled and coverage falls."""
    real: Callable[..., np.random.Generator] = np.random.default_rng
    monkeypatch.setattr(np.random, "default_rng", lambda seed=None: _EveryProcessOnce(real(seed)))
    coverage = slope_coverage(FEW_REPS, seed=99, counts=PROCESS_COUNTS)
    assert coverage < COVERAGE_LOW, coverage


def test_a_widened_ci_of_times_stays_a_time():
    """Two worker processes far apart and two near: the widened interval of a median time
    must still be a time (its lower end above zero), as summary.csv's reader demands."""
    values = np.array([100.0, 101.0, 99.0, 100.5, 5000.0, 5100.0, 4900.0, 5050.0] * 2)
    groups = np.repeat(np.arange(4), 4)
    median, low, high = stats.median_ci(values, groups)
    assert 0 < low < median < high  # positive, and not collapsed onto the median
