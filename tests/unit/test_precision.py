"""Precision: the regression on loop count, adaptive sampling to a CI target, and
interleaved passes (--repeat)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bench.analysis import stats


def _processes(slopes: list[float], seed: int = 3) -> tuple[np.ndarray, ...]:
    """Runs of 1/8, 1/4, 1/2 and all of 8,000 switches in each of len(slopes) worker
    processes, each at a level (intercept) and a slope of its own, with a little noise."""
    rng = np.random.default_rng(seed)
    switches = np.tile([1000.0, 2000.0, 4000.0, 8000.0], len(slopes))
    groups = np.repeat(np.arange(len(slopes)), 4)
    level = rng.normal(50_000, 20_000, len(slopes))[groups]
    elapsed = level + np.asarray(slopes)[groups] * switches + rng.normal(0, 500, switches.size)
    return switches, elapsed, groups


def test_regression_recovers_slope_and_intercept() -> None:
    switches, elapsed, groups = _processes([120.0] * 6)
    fit = stats.regression(switches, elapsed, groups)
    assert fit["slope_ns_per_switch"] == pytest.approx(120, rel=0.02)
    assert fit["slope_ci_low"] < 120 < fit["slope_ci_high"]
    assert fit["r_squared"] > 0.99
    # The order of the points, and the labels of the processes, do not change the CI.
    shuffled = np.random.default_rng(1).permutation(switches.size)
    again = stats.regression(switches[shuffled], elapsed[shuffled], groups[shuffled] + 7)
    assert again == pytest.approx(fit, nan_ok=True)


def test_the_slope_ci_resamples_processes_first() -> None:
    """Processes whose slopes differ (on a VM each runs at a level of its own): the CI
    must span how the processes' slopes scatter, which resampling runs as independent
    points does not see, since within each process the line fits almost exactly."""
    slopes = [100.0, 110.0, 120.0, 130.0, 140.0, 150.0]
    switches, elapsed, groups = _processes(slopes)
    fit = stats.regression(switches, elapsed, groups)
    standard_error = np.std(slopes, ddof=1) / np.sqrt(len(slopes))
    assert fit["slope_ci_high"] - fit["slope_ci_low"] > 2 * standard_error
    assert fit["slope_range_low"] == pytest.approx(100, rel=0.02)
    assert fit["slope_range_high"] == pytest.approx(150, rel=0.02)


def test_fewer_than_five_processes_give_a_range_not_a_ci() -> None:
    switches, elapsed, groups = _processes([100.0, 110.0, 120.0, 130.0])
    fit = stats.regression(switches, elapsed, groups)
    assert math.isnan(fit["slope_ci_low"]) and math.isnan(fit["slope_ci_high"])
    assert fit["slope_range_low"] == pytest.approx(100, rel=0.02)
    assert fit["slope_range_high"] == pytest.approx(130, rel=0.02)
    assert fit["slope_range_low"] < fit["slope_ns_per_switch"] < fit["slope_range_high"]


def test_each_process_keeps_its_own_intercept() -> None:
    """Processes at very different levels: a line pooled over them fits the levels and
    its R² drops; the within-process fit sees the loop alone."""
    switches, elapsed, groups = _processes([120.0] * 6)
    elapsed = elapsed + groups * 2_000_000.0
    fit = stats.regression(switches, elapsed, groups)
    assert fit["slope_ns_per_switch"] == pytest.approx(120, rel=0.02)
    assert fit["r_squared"] > 0.99


def test_regression_needs_more_than_one_loop_count() -> None:
    fit = stats.regression(np.full(10, 1000.0), np.linspace(1e5, 2e5, 10))
    assert all(math.isnan(v) for v in fit.values())


def test_trust_flags_a_wide_ci_and_a_poor_fit() -> None:
    assert stats.trust(100, 99, 101, 0.999) == "ok"
    assert "CI ±20%" in stats.trust(100, 80, 120, 0.999)
    assert "R² 0.50" in stats.trust(100, 99, 101, 0.5)
    assert stats.trust(100, math.nan, math.nan, math.nan) == "ok"  # nothing to doubt by


def test_gotest_verdict_is_the_median_of_the_rounds_ratios() -> None:
    from bench.measure.selfbench import gotest_lines

    paired = pd.DataFrame(
        {
            "round": [1, 2, 3, 1, 2, 3],
            "first": ["suite"] * 6,
            "case": ["go.chan.p1"] * 3 + ["go.cond.p1"] * 3,
            "suite_ns": [100.0, 100.0, 100.0, 100.0, 100.0, 100.0],
            "gotest_ns": [50.0, 95.0, 104.0, 80.0, 70.0, 125.0],
        }
    )
    paired["ratio"] = paired["suite_ns"] / paired["gotest_ns"]
    text = "\n".join(gotest_lines(paired, 3))
    # go.chan.p1: ratios 2.00, 1.05, 0.96 -> median 1.05, within 10%; go.cond.p1:
    # 1.25, 1.43, 0.80 -> median 1.25, outside.
    assert "1 of 2 agree within ±10%" in text
    assert "| `go.chan.p1` |" in text and "| 1.05 | 0.96–2.00 |" in text
    assert "| 1.25 | 0.80–1.43 |" in text
