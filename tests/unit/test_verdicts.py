"""compare's verdict at the edges of the noise band, on both sides, with and without a
CI, and with a CI from too few worker processes to judge by.

A ratio is significantly slower (faster) only when its CI excludes 1 *and* it lies
beyond the band: above 1 + band, or below 1 / (1 + band) (the band is symmetric on the
log scale, as compare's ratio figure draws it). A CI from fewer than
stats.MIN_PROCESSES_FOR_CI processes shows the direction and is not judged; no CI at
all is not judged either.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.analysis import comparison, stats

BAND = comparison.NOISE_BAND
SLOWER_EDGE = 1 + BAND
FASTER_EDGE = 1 / (1 + BAND)
JUST_ABOVE_SLOWER_EDGE = math.nextafter(SLOWER_EDGE, math.inf)
JUST_BELOW_FASTER_EDGE = math.nextafter(FASTER_EDGE, 0.0)
JUST_ABOVE_1 = math.nextafter(1.0, math.inf)
JUST_BELOW_1 = math.nextafter(1.0, 0.0)

SLOWER = (True, "slower")
FASTER = (True, "faster")
SAME = (False, "same within noise")
NO_CI = (None, "no CI (too few samples)")


def test_the_default_band_is_ten_percent():
    assert BAND == 0.10


@pytest.mark.parametrize(
    ("ratio", "low", "high", "expected"),
    [
        # slower side: the ratio against the band, with a CI that excludes 1
        pytest.param(JUST_ABOVE_SLOWER_EDGE, 1.05, 1.15, SLOWER, id="slower-just-outside"),
        pytest.param(SLOWER_EDGE, 1.05, 1.15, SAME, id="slower-on-the-edge"),
        pytest.param(1.0999, 1.05, 1.15, SAME, id="slower-just-inside"),
        pytest.param(1.5, 1.4, 1.6, SLOWER, id="slower-far-outside"),
        # slower side: the CI against 1, with the ratio beyond the band
        pytest.param(1.5, 0.99, 2.0, SAME, id="slower-ci-includes-1"),
        pytest.param(1.5, 1.0, 2.0, SAME, id="slower-ci-touches-1"),
        pytest.param(1.5, JUST_ABOVE_1, 2.0, SLOWER, id="slower-ci-just-excludes-1"),
        # faster side
        pytest.param(JUST_BELOW_FASTER_EDGE, 0.85, 0.95, FASTER, id="faster-just-outside"),
        pytest.param(FASTER_EDGE, 0.85, 0.95, SAME, id="faster-on-the-edge"),
        pytest.param(0.9092, 0.85, 0.95, SAME, id="faster-just-inside"),
        # within 10% of 1, but beyond 1 / 1.1: the band is symmetric in log
        pytest.param(0.905, 0.85, 0.95, FASTER, id="faster-beyond-1/(1+band)"),
        pytest.param(0.5, 0.4, 0.6, FASTER, id="faster-far-outside"),
        pytest.param(0.5, 0.4, 1.01, SAME, id="faster-ci-includes-1"),
        pytest.param(0.5, 0.4, 1.0, SAME, id="faster-ci-touches-1"),
        pytest.param(0.5, 0.4, JUST_BELOW_1, FASTER, id="faster-ci-just-excludes-1"),
        # no difference at all
        pytest.param(1.0, 0.98, 1.02, SAME, id="equal"),
    ],
)
def test_verdict_at_the_band_and_ci_edges(ratio, low, high, expected):
    assert comparison.verdict(ratio, low, high) == expected
    # The band's default is NOISE_BAND: given explicitly, the same verdict.
    assert comparison.verdict(ratio, low, high, BAND) == expected


@pytest.mark.parametrize(
    ("ratio", "low", "high"),
    [
        (1.5, math.nan, math.nan),
        (1.5, math.nan, 1.6),
        (1.5, 1.4, math.nan),
        (0.5, math.nan, math.nan),
        (1.0, math.nan, math.nan),
    ],
)
@pytest.mark.parametrize("within", ["", "within one process", "within 2 processes"])
def test_without_a_ci_nothing_is_judged(ratio, low, high, within):
    assert comparison.verdict(ratio, low, high, BAND, within) == NO_CI


@pytest.mark.parametrize("processes", [1, 2])
@pytest.mark.parametrize(
    ("ratio", "low", "high", "direction"),
    [
        (JUST_ABOVE_SLOWER_EDGE, 1.05, 1.15, "slower"),
        (1.5, 1.4, 1.6, "slower"),
        (JUST_BELOW_FASTER_EDGE, 0.85, 0.95, "faster"),
        (0.5, 0.4, 0.6, "faster"),
    ],
)
def test_a_difference_on_a_within_process_ci_looks_but_is_not_judged(
    processes, ratio, low, high, direction
):
    within = stats.within_processes(processes)
    assert within  # fewer than MIN_PROCESSES_FOR_CI
    assert comparison.verdict(ratio, low, high, BAND, within) == (
        None,
        f"looks {direction} (CI {within}: not judged)",
    )


@pytest.mark.parametrize(
    ("ratio", "low", "high"),
    [
        (SLOWER_EDGE, 1.05, 1.15),  # on the edge: inside
        (1.0999, 1.05, 1.15),
        (FASTER_EDGE, 0.85, 0.95),
        (0.9092, 0.85, 0.95),
        (1.5, 0.99, 2.0),  # beyond the band, CI includes 1
        (1.5, 1.0, 2.0),
        (0.5, 0.4, 1.01),
        (1.0, 0.98, 1.02),
    ],
)
def test_same_within_noise_stays_a_fair_call_on_a_within_process_ci(ratio, low, high):
    """A CI that held the spread between processes would be wider still, so what is
    the same within noise on a narrow CI is the same on an honest one."""
    within = stats.within_processes(2)
    assert comparison.verdict(ratio, low, high, BAND, within) == SAME


def test_enough_processes_are_judged():
    assert stats.within_processes(stats.MIN_PROCESSES_FOR_CI) == ""
    assert comparison.verdict(1.5, 1.4, 1.6, BAND, "") == SLOWER


@pytest.mark.parametrize(
    ("band", "ratio", "expected"),
    [
        (0.05, 1.06, SLOWER),
        (0.05, 1.04, SAME),
        (0.05, math.nextafter(1 / 1.05, 0.0), FASTER),
        (0.05, 1 / 1.05, SAME),
        (0.20, 1.15, SAME),  # beyond the default band, inside this one
        (0.20, 0.85, SAME),
        (0.20, 1.21, SLOWER),
        (0.0, 1.001, SLOWER),  # no band: the CI alone decides
        (0.0, 0.999, FASTER),
    ],
)
def test_the_noise_band_argument_moves_the_edges(band, ratio, expected):
    low, high = (ratio * 0.9995, ratio * 1.0005) if ratio != 1 else (0.99, 1.01)
    assert comparison.verdict(ratio, low, high, band) == expected


def test_too_few_samples_give_no_ci_and_no_verdict():
    """ratio_ci gives no CI from fewer than 3 samples on either side; the verdict is then
    not judged, however far the ratio is from 1."""
    ratio, low, high = comparison.ratio_ci(
        np.array([100.0, 101.0]), np.array([300.0, 301.0, 302.0])
    )
    assert ratio == pytest.approx(301.0 / 100.5)
    assert math.isnan(low) and math.isnan(high)
    assert comparison.verdict(ratio, low, high) == NO_CI


# ---- through compare(): the fewer processes of the two runs, and the band -----------


def _run(label: str, level: float, processes: int, values: int = 4) -> comparison.RunData:
    """A run of one case, `processes` worker processes of `values` each, all within
    ±0.1% of level (so a ratio's CI is narrow)."""
    rng = np.random.default_rng(processes * 1000 + int(level))
    ns = level * (1 + 0.001 * rng.uniform(-1, 1, size=processes * values))
    samples = pd.DataFrame(
        {
            "case": "go.chan.p1",
            "process": np.repeat(np.arange(1, processes + 1), values),
            "ns_per_switch": ns,
        }
    )
    median, low, high = stats.median_ci(ns, samples["process"].to_numpy())
    summary = pd.DataFrame(
        [
            {
                "case": "go.chan.p1",
                "status": "ok",
                "ns_per_switch": median,
                "ci_low": low,
                "ci_high": high,
                "processes": processes,
                "samples": processes * values,
                "sweep": "",
            }
        ]
    )
    return comparison.RunData(label, Path(label), {}, {}, summary, samples, pd.DataFrame())


@pytest.mark.parametrize(
    ("base_processes", "other_processes", "level", "band", "expected"),
    [
        (4, 4, 120.0, BAND, SLOWER),
        (4, 4, 80.0, BAND, FASTER),
        (4, 4, 108.0, BAND, SAME),
        (4, 4, 108.0, 0.05, SLOWER),
        (2, 4, 120.0, BAND, (None, "looks slower (CI within 2 processes: not judged)")),
        (4, 1, 80.0, BAND, (None, "looks faster (CI within one process: not judged)")),
        (1, 2, 120.0, BAND, (None, "looks slower (CI within one process: not judged)")),
        (2, 2, 108.0, BAND, SAME),
        (3, 3, 120.0, BAND, (None, "looks slower (CI within 3 processes: not judged)")),
        (5, 5, 120.0, BAND, SLOWER),
    ],
)
def test_compare_judges_on_the_run_with_fewer_processes_and_the_given_band(
    base_processes, other_processes, level, band, expected
):
    runs = [_run("a", 100.0, base_processes), _run("b", level, other_processes)]
    table = comparison.compare(runs, band)
    row = table[table["run"] == 1].iloc[0]
    significant = None if pd.isna(row["significant"]) else bool(row["significant"])
    assert (significant, row["verdict"]) == expected
    assert row["ratio_to_first"] == pytest.approx(level / 100.0, rel=0.01)
    # (The CI holds the ratio by construction; what it says is judged in the verdict.)
    assert 0 < row["ratio_ci_low"] <= row["ratio_ci_high"] < 2 * level / 100.0
