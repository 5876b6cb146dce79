"""The mood adjustment (bench.analysis.mood), by simulation with a known truth and a known
mood effect, and the canary's columns in samples.csv and summary.csv.

The simulated run: 4 to 7 worker processes of 6 values. Each process settles at a level
of its own (lognormal, sd 3%); the machine's mood m (normal, sd 10% on a log scale)
moves both each value, by beta·m, and its canary, by m; the canary is read with noise
of its own (sd 3%), and each value scatters around its level (sd 2%). At the canary's
own centre (mood 0) the population median of a value is TRUTH_NS exactly, so the
adjusted median at that reference level must recover it, and its 95% CI must hold it
90-98% of the time.

Everything is seeded, so the figures are the same on every run.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bench.analysis import mood, stats
from bench.analysis.tidy import samples_from_suite
from bench.results.schema import SAMPLE_COLUMNS, SINCE_CANARY_SAMPLES

pytestmark = pytest.mark.unit

TRUTH_NS = 130.0
CANARY_NS = 4.0  # the canary's centre, the reference level
PROCESS_SD, VALUE_SD, MOOD_SD, CANARY_NOISE_SD = 0.03, 0.02, 0.10, 0.03
VALUES_PER_PROCESS = 6
PROCESS_COUNTS = (4, 5, 6, 7)
COVERAGE_LOW, COVERAGE_HIGH = 0.90, 0.98
SIMULATIONS = 200


def simulated(
    rng: np.random.Generator, processes: int, beta: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, canaries, process) of one run with mood effect beta."""
    shape = (processes, VALUES_PER_PROCESS)
    level = PROCESS_SD * rng.standard_normal(processes)[:, None]
    m = MOOD_SD * rng.standard_normal(shape)
    values = TRUTH_NS * np.exp(level + beta * m + VALUE_SD * rng.standard_normal(shape))
    canaries = CANARY_NS * np.exp(m + CANARY_NOISE_SD * rng.standard_normal(shape))
    groups = np.repeat(np.arange(1, processes + 1), VALUES_PER_PROCESS)
    return values.ravel(), canaries.ravel(), groups


def test_adjusted_ci_covers_the_truth_at_the_nominal_rate() -> None:
    rng = np.random.Generator(np.random.PCG64(19))
    covered, narrower = 0, 0
    for i in range(SIMULATIONS):
        values, canaries, groups = simulated(rng, PROCESS_COUNTS[i % len(PROCESS_COUNTS)], 1.0)
        # Every other run fits one intercept for all processes (pooled): it must cover too.
        a = mood.adjust(values, canaries, groups, CANARY_NS, seed=i, pooled=i % 2 == 1)
        covered += a.ci_low <= TRUTH_NS <= a.ci_high
        _, low, high = stats.median_ci(values, groups, seed=i)
        narrower += (a.ci_high - a.ci_low) < (high - low)
    assert COVERAGE_LOW <= covered / SIMULATIONS <= COVERAGE_HIGH
    # A strong mood effect taken out: the adjusted CI is the narrower one in most runs.
    assert narrower / SIMULATIONS > 0.8


def test_the_estimate_recovers_the_truth_and_the_slope() -> None:
    rng = np.random.Generator(np.random.PCG64(7))
    values, canaries, groups = simulated(rng, 40, 1.0)
    a = mood.adjust(values, canaries, groups, CANARY_NS)
    assert abs(math.log(a.adjusted_ns / TRUTH_NS)) < 0.02
    # Noise in the canary pulls the fitted slope towards 0 (by var(m) / var(canary)).
    attenuation = MOOD_SD**2 / (MOOD_SD**2 + CANARY_NOISE_SD**2)
    assert a.beta_ci_low <= attenuation <= a.beta_ci_high
    assert a.trusted and a.note == ""
    assert a.r2 > mood.MIN_CANARY_R2


def test_no_mood_effect_changes_nothing_beyond_noise() -> None:
    rng = np.random.Generator(np.random.PCG64(3))
    moved, distrusted = 0, 0
    for i in range(60):
        values, canaries, groups = simulated(rng, 5, 0.0)
        a = mood.adjust(values, canaries, groups, CANARY_NS, seed=i)
        _, low, high = stats.median_ci(values, groups, seed=i)
        # The adjusted median stays inside the raw CI: the adjustment moved it no more
        # than the raw figure's own uncertainty.
        moved += not (low <= a.adjusted_ns <= high)
        distrusted += not a.trusted
    assert moved <= 3
    # With nothing to explain the rule keeps the raw figure as the headline.
    assert distrusted >= 55


def test_an_unavailable_canary_is_reported_never_zero() -> None:
    rng = np.random.Generator(np.random.PCG64(5))
    values, canaries, groups = simulated(rng, 5, 1.0)
    canaries[3] = math.nan
    a = mood.adjust(values, canaries, groups, CANARY_NS)
    assert math.isnan(a.adjusted_ns) and math.isnan(a.r2) and not a.trusted
    assert "unavailable" in a.note
    frame = pd.DataFrame(
        {
            "case": "x",
            "kind": "timed",
            "process": groups,
            "ns_per_switch": values,
            "canary_before_ns": math.nan,
            "canary_after_ns": math.nan,
        }
    )
    row = mood.summary_columns(frame, ["x"]).loc["x"]
    assert math.isnan(row["adjusted_ns"]) and math.isnan(row["mood_adjusted"])
    assert math.isnan(row["canary_ns"]) and "unavailable" in row["mood_note"]


def test_canary_of_is_the_geometric_mean_and_blank_without_both() -> None:
    frame = pd.DataFrame(
        {"canary_before_ns": [2.0, math.nan, 3.0], "canary_after_ns": [8.0, 4.0, 0.0]}
    )
    got = mood.canary_of(frame)
    assert got.iloc[0] == pytest.approx(4.0)
    assert math.isnan(got.iloc[1]) and math.isnan(got.iloc[2])
    assert mood.canary_of(pd.DataFrame({"x": [1]})).isna().all()


class _Run:
    def __init__(self, values: list[float], metadata: dict[str, object]) -> None:
        self.values = values
        self._metadata = metadata

    def get_metadata(self) -> dict[str, object]:
        return self._metadata


class _Bench:
    def __init__(self, runs: list[_Run]) -> None:
        self._runs = runs

    def get_name(self) -> str:
        return "c.x"

    def get_runs(self) -> list[_Run]:
        return self._runs


class _Suite:
    def __init__(self, runs: list[_Run]) -> None:
        self._bench = _Bench(runs)

    def get_benchmarks(self) -> list[_Bench]:
        return [self._bench]


@pytest.mark.parametrize("canary", ["[[3.5,3.7],[null,4.0]]", None, "[[1,2]]"])
def test_samples_carry_the_canary_where_it_was_measured(canary: str | None) -> None:
    metadata: dict[str, object] = {"loops": 10, "inner_loops": 2}
    if canary is not None:
        metadata["switchbench_canary"] = canary
    samples = samples_from_suite(_Suite([_Run([1e-7, 2e-7], metadata)]))  # type: ignore[arg-type]
    assert list(samples.columns) == SAMPLE_COLUMNS
    assert set(SINCE_CANARY_SAMPLES) <= set(SAMPLE_COLUMNS)
    before, after = samples["canary_before_ns"].tolist(), samples["canary_after_ns"].tolist()
    if canary == "[[3.5,3.7],[null,4.0]]":
        assert before[0] == 3.5 and after[0] == 3.7 and after[1] == 4.0
        assert math.isnan(before[1])  # a failed canary is blank, not 0
    else:  # absent, or not one pair per value: unavailable throughout
        assert all(math.isnan(v) for v in before + after)


def _run(label: str, seed: int, cpu: str, canary: bool = True) -> object:
    from pathlib import Path

    from bench.analysis import comparison

    rng = np.random.Generator(np.random.PCG64(seed))
    values, canaries, groups = simulated(rng, 5, 1.0)
    samples = pd.DataFrame(
        {
            "case": "go.chan.p1",
            "kind": "timed",
            "process": groups,
            "ns_per_switch": values,
            "canary_before_ns": canaries if canary else math.nan,
            "canary_after_ns": canaries if canary else math.nan,
        }
    )
    median, low, high = stats.median_ci(values, groups)
    row = {"case": "go.chan.p1", "status": "ok", "ns_per_switch": median, "sweep": ""}
    summary = pd.DataFrame([row | {"ci_low": low, "ci_high": high}])
    host = {"cpu_model": cpu, "logical_cpus": 2}
    return comparison.RunData(label, Path(label), host, {}, summary, samples, pd.DataFrame())


def test_compare_adjusts_one_machine_only() -> None:
    from bench.render import compare_mood

    table = pd.DataFrame(
        {
            "case": ["go.chan.p1"] * 2,
            "run": [0, 1],
            "status": ["ok"] * 2,
            "ratio_to_first": [math.nan, 1.01],
            "ratio_ci_low": [math.nan, 0.99],
            "ratio_ci_high": [math.nan, 1.03],
        }
    )
    same = compare_mood.section_lines([_run("a", 1, "X"), _run("b", 2, "X")], table)
    text = "\n".join(same)
    assert "at one canary level" in text and "`go.chan.p1`" in text
    assert "| band | raw | at one level |" in text  # how far apart the runs are, by band
    other = "\n".join(compare_mood.section_lines([_run("a", 1, "X"), _run("b", 2, "Y")], table))
    assert "different hardware" in other and "`go.chan.p1`" not in other
    half = "\n".join(
        compare_mood.section_lines([_run("a", 1, "X"), _run("b", 2, "X", False)], table)
    )
    assert "Not every run measured the canary" in half
    # Runs from before the canary: nothing at all (the golden compare stays as it was).
    none = [_run("a", 1, "X", False), _run("b", 2, "X", False)]
    assert compare_mood.section_lines(none, table) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("with_canary", [True, False])
def test_samples_csv_round_trip_with_and_without_the_canary(tmp_path, with_canary) -> None:
    from bench.errors import UsageError
    from bench.results.read import load_samples
    from bench.results.write import write_csv

    rng = np.random.Generator(np.random.PCG64(11))
    values, canaries, groups = simulated(rng, 4, 1.0)
    frame = pd.DataFrame(
        {
            "case": "c.x",
            "process": groups,
            "sample": np.tile(np.arange(1, VALUES_PER_PROCESS + 1), 4),
            "kind": "timed",
            "ns_per_switch": values,
            "canary_before_ns": canaries,
            "canary_after_ns": canaries * 1.01,
        }
    )
    frame.loc[2, "canary_before_ns"] = math.nan  # one canary that failed
    if not with_canary:  # a folder from before the canary
        frame = frame.drop(columns=list(SINCE_CANARY_SAMPLES))
    write_csv(frame, tmp_path / "samples.csv")
    back = load_samples(tmp_path)
    assert back["ns_per_switch"].to_numpy() == pytest.approx(values)
    if with_canary:
        assert back["canary_before_ns"].drop(index=2).to_numpy() == pytest.approx(
            np.delete(canaries, 2)
        )
        assert math.isnan(back.loc[2, "canary_before_ns"])
    else:
        assert back["canary_before_ns"].isna().all() and back["canary_after_ns"].isna().all()
    # A canary of 0 is no measurement: the folder is refused, not read as a mood.
    if with_canary:
        frame.loc[0, "canary_after_ns"] = 0.0
        write_csv(frame, tmp_path / "samples.csv")
        with pytest.raises(UsageError, match="canary_after_ns"):
            load_samples(tmp_path)


def test_the_stopping_rule_counts_the_adjusted_ci_only_where_trusted() -> None:
    from bench.measure.runner import Precision

    rng = np.random.Generator(np.random.PCG64(23))
    values, canaries, groups = simulated(rng, 6, 1.0)
    pairs = [(c, c) for c in canaries]
    half = mood.stop_half_width(values, pairs, groups)
    _, low, high = stats.median_ci(values, groups)
    raw = (high - low) / 2 / float(np.median(values))
    assert 0 < half < raw  # a strong mood effect, trusted: narrower than the raw CI
    now = Precision(raw, 1000, 6, half)
    assert now.reaches == half
    # Only a target the raw CI misses is met "mood-adjusted"; one both meet is plain.
    assert now.stop_word(half) == "target (mood-adjusted)" and now.stop_word(raw) == "target"
    # No mood effect: not trusted, so the raw CI alone decides.
    flat, flat_canaries, flat_groups = simulated(rng, 6, 0.0)
    assert math.isnan(mood.stop_half_width(flat, [(c, c) for c in flat_canaries], flat_groups))
    unadjusted = Precision(raw, 1000, 6)
    assert unadjusted.reaches == raw and unadjusted.stop_word(raw) == "target"
    # Too few processes: no CI counts, adjusted or not.
    assert math.isnan(Precision(raw, 1000, 3, half).reaches)
    # A canary record that does not line up with the values is unavailable throughout.
    assert all(math.isnan(b) for b, _ in mood.canary_pairs([[1.0, 2.0]], 2))


def test_the_adjusted_and_raw_cis_draw_the_same_resamples() -> None:
    # With slopes of 0 the adjusted draws are the raw ones, draw for draw: the two CIs
    # then differ only by what the adjustment does, not by the luck of the draws.
    from bench.analysis import mood_fit

    rng = np.random.Generator(np.random.PCG64(29))
    values, canaries, groups = simulated(rng, 5, 1.0)
    # 5 values in each of 5 processes: every draw holds 25, an odd count, so that its
    # median is one value on either scale (the adjusted one is taken on a log scale).
    keep = np.tile(np.arange(VALUES_PER_PROCESS) < 5, 5)
    values, canaries, groups = values[keep], canaries[keep], groups[keep]
    tx, ty, valid = mood_fit.table(np.log(canaries)[:, None] * 0, np.log(values), groups)
    drawn, _, fitted = mood_fit.bootstrap(
        tx, ty, valid, np.zeros(1), np.zeros(1), True, 3, np.ones(1)
    )
    assert not fitted.any()  # a covariate that never varies: no draw could fit a slope
    assert np.exp(drawn) == pytest.approx(
        stats.bootstrap_medians(values, groups, seed=3), rel=1e-12
    )


def contended(
    rng: np.random.Generator, processes: int, stolen: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, covariates, process) of a one-CPU case from which the machine takes a
    share of each value's time (exponential, mean `stolen`): the wall time grows by
    1 / share, and the process's CPU share is that share, read exactly."""
    shape = (processes, VALUES_PER_PROCESS)
    level = PROCESS_SD * rng.standard_normal(processes)[:, None]
    share = 1 - np.minimum(rng.exponential(stolen, shape), 0.5)
    values = TRUTH_NS * np.exp(level + VALUE_SD * rng.standard_normal(shape)) / share
    canary = CANARY_NS * np.exp(CANARY_NOISE_SD * rng.standard_normal(shape))
    groups = np.repeat(np.arange(1, processes + 1), VALUES_PER_PROCESS)
    return values.ravel(), np.column_stack([canary.ravel(), share.ravel()]), groups


def test_the_cpu_share_takes_out_time_the_machine_took() -> None:
    rng = np.random.Generator(np.random.PCG64(31))
    values, x, groups = contended(rng, 40, 0.05)
    # At the level of no contention (share 1), the adjusted median is the truth.
    a = mood.adjust(values, x, groups, np.array([CANARY_NS, 1.0]), pooled=True)
    assert abs(math.log(a.adjusted_ns / TRUTH_NS)) < 0.02
    assert a.share_beta_ci_low <= -1 <= a.share_beta_ci_high  # wall time ∝ 1 / share
    assert a.trusted and a.r2 > mood.MIN_CANARY_R2
    _, low, high = stats.median_ci(values, groups)
    assert (a.ci_high - a.ci_low) / a.adjusted_ns < (high - low) / float(np.median(values))


def test_the_cpu_share_enters_only_where_one_cpu_is_kept_busy_and_it_moved() -> None:
    rng = np.random.Generator(np.random.PCG64(37))
    values, x, groups = contended(rng, 6, 0.05)
    reference = np.array([CANARY_NS, 1.0])
    # A case that sleeps (or spreads over CPUs) has a share of its own making.
    asleep = x.copy()
    asleep[:, 1] *= 0.6
    a = mood.adjust(values, asleep, groups, reference, pooled=True)
    assert math.isnan(a.share_beta) and "not one busy CPU" in a.note
    # Undisturbed, the share sits at 1 within the clocks' jitter: it would only add the
    # fit's uncertainty. Above 1 (the process's own other threads) counts as 1.
    still = x.copy()
    still[:, 1] = 1 + 0.002 * rng.random(len(values))
    a = mood.adjust(values, still, groups, reference, pooled=True)
    assert math.isnan(a.share_beta) and "did not vary" in a.note
    # A share that was not measured for every value is left out and said so, never 0.
    gap = x.copy()
    gap[2, 1] = math.nan
    a = mood.adjust(values, gap, groups, reference, pooled=True)
    assert math.isnan(a.share_beta) and "cpu share unavailable for 1 of" in a.note


def test_no_covariate_that_explains_nothing_is_trusted_however_the_cis_fall() -> None:
    # With no mood at all, the adjusted CI still comes out narrower than the raw one in
    # about half the runs (the slopes re-fitted in each draw chase its luck); the trust
    # rule's R² keeps the raw figure the headline in all but a few.
    rng = np.random.Generator(np.random.PCG64(41))
    narrower, trusted = 0, 0
    for i in range(60):
        values, canaries, groups = simulated(rng, 4, 0.0)
        a = mood.adjust(values, canaries, groups, CANARY_NS, seed=i, pooled=True)
        _, low, high = stats.median_ci(values, groups, seed=i)
        narrower += (a.ci_high - a.ci_low) / a.adjusted_ns < (high - low) / np.median(values)
        trusted += a.trusted
    assert 10 <= narrower <= 50
    assert trusted <= 3


def test_the_precision_line_counts_one_cpu_cases_by_their_headline_ci() -> None:
    from bench.render.mood import precision_line

    def row(case: str, raw: float, adjusted: float, trusted: float) -> dict[str, object]:
        return {
            "case": case,
            "status": "ok",
            "ns_per_switch": 100.0,
            "ci_low": 100 - raw,
            "ci_high": 100 + raw,
            "adjusted_ns": 100.0,
            "adjusted_ci_low": 100 - adjusted,
            "adjusted_ci_high": 100 + adjusted,
            "mood_adjusted": trusted,
        }

    summary = pd.DataFrame(
        [
            row("go.chan.p1", 4.0, 2.0, 1.0),  # only its adjusted CI reaches ±3%: trusted
            row("c.futex.same-core", 2.0, 2.5, 0.0),
            row("c.condvar.same-core", 5.0, 2.0, 0.0),  # narrower adjusted, not trusted
            row("c.futex.cross-core", 9.0, 1.0, 1.0),  # spread over CPUs: not counted
        ]
    )
    run = {"profile_settings": {"cases": {"target_ci": 0.03}}}
    line = precision_line(summary, run)
    assert line.startswith("On one CPU (3 cases")
    assert "1 reached the ±3% target with the raw CI and 2 with the headline" in line
    assert "trusted: 1 cases" in line and "narrower than the raw one for 2 of them" in line
    assert precision_line(summary, {}) == ""  # no target known: no line


def test_the_band_two_runs_support_is_the_narrowest_that_calls_nine_in_ten_the_same() -> None:
    from bench.analysis import mood_compare

    # Ten cases whose runs differ by 0.5%..9.5% (raw) with tight CIs; adjusted, by a
    # quarter of that. At a band narrower than a difference, its tight CI calls it.
    diffs = np.arange(10) / 100 + 0.005
    ratios = pd.DataFrame(
        {
            "raw_ratio": 1 + diffs,
            "raw_low": 1 + diffs - 0.002,
            "raw_high": 1 + diffs + 0.002,
            "ratio": 1 + diffs / 4,
            "low": 1 + diffs / 4 - 0.002,
            "high": 1 + diffs / 4 + 0.002,
            "adjusted": True,
        }
    )
    by_band = mood_compare.agreement_by_band(ratios)
    at = by_band.set_index("band")
    assert at.loc[0.10, "raw"] == 10 and at.loc[0.05, "raw"] == 5
    assert at.loc[0.03, "headline"] == 10 and at.loc[0.02, "headline"] == 8
    assert mood_compare.supported_band(by_band, "raw") == 0.10
    assert mood_compare.supported_band(by_band, "headline") == 0.03
    mid, p90 = mood_compare.spread(ratios, "raw_ratio")
    assert 0.04 < mid < 0.06 and p90 > mid


def _clocked_runs(
    seed: int, clock_shift: np.ndarray, canary_shift: np.ndarray
) -> tuple[list[object], pd.DataFrame]:
    """Two runs of the one-CPU cases: in the second, each case's values are moved by its
    clock_shift (log scale) and its canaries by its canary_shift; and compare's table of
    their raw ratios."""
    from pathlib import Path

    from bench.analysis import comparison
    from bench.analysis.mood_compare import ONE_CPU

    rng = np.random.Generator(np.random.PCG64(seed))
    cases = sorted(ONE_CPU)[: len(clock_shift)]
    runs, frames = [], []
    for run in range(2):
        parts = []
        for i, case in enumerate(cases):
            values, canaries, groups = simulated(rng, 4, 0.0)
            if run:
                values, canaries = (
                    values * np.exp(clock_shift[i]),
                    canaries * np.exp(canary_shift[i]),
                )
            parts.append(
                pd.DataFrame(
                    {
                        "case": case,
                        "kind": "timed",
                        "process": groups,
                        "ns_per_switch": values,
                        "canary_before_ns": canaries,
                        "canary_after_ns": canaries,
                    }
                )
            )
        frames.append(pd.concat(parts, ignore_index=True))
        summary = pd.DataFrame({"case": cases, "status": "ok", "sweep": ""})
        host = {"cpu_model": "X", "logical_cpus": 2}
        runs.append(
            comparison.RunData(
                str(run), Path(str(run)), host, {}, summary, frames[-1], pd.DataFrame()
            )
        )
    rows = []
    for case in cases:
        a, b = (f[f["case"] == case] for f in frames)
        ratio, low, high = comparison.ratio_ci(
            a["ns_per_switch"], b["ns_per_switch"], a["process"], b["process"]
        )
        rows.append(
            {
                "case": case,
                "run": 1,
                "ratio_to_first": ratio,
                "ratio_ci_low": low,
                "ratio_ci_high": high,
            }
        )
    return runs, pd.DataFrame(rows)


def test_two_runs_at_one_canary_level_take_out_the_machines_clock() -> None:
    from bench.analysis import mood_compare

    # Between the runs the machine's clock moved each case by 5-15%, and its canary with
    # it: at one canary level the runs are the same again, within a band the raw runs
    # could not hold.
    shift = np.log(1 + np.linspace(0.05, 0.15, 10))
    runs, table = _clocked_runs(43, shift, shift)
    ratios = mood_compare.headline_ratios(runs, table)
    assert 0.7 < ratios.attrs["beta"] < 1.3 and ratios["adjusted"].all()
    by_band = mood_compare.agreement_by_band(ratios).set_index("band")
    assert by_band.loc[0.05, "headline"] > by_band.loc[0.05, "raw"]
    assert mood_compare.spread(ratios, "ratio")[0] < mood_compare.spread(ratios, "raw_ratio")[0] / 2


def test_a_canary_that_moved_for_no_reason_adjusts_nothing() -> None:
    from bench.analysis import mood_compare

    # The canaries moved by chance and the values did not: the slope comes out near 0,
    # and so does what it takes out.
    rng = np.random.Generator(np.random.PCG64(47))
    runs, table = _clocked_runs(53, np.zeros(10), rng.normal(0, 0.03, 10))
    ratios = mood_compare.headline_ratios(runs, table)
    assert abs(ratios.attrs["beta"]) < 0.5
    moved = np.abs(np.log(ratios["ratio"] / ratios["raw_ratio"]))
    assert moved.max() < 0.02
