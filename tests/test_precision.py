"""Precision: the regression on loop count, adaptive sampling to a CI target, and
interleaved passes (--repeat)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyperf
import pytest

from bench.analysis import stats
from bench.catalogue import cases, profiles
from bench.measure import runner
from bench.native.build import Artifacts
from tests.conftest import switchbench


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


def _profile(target: float, budget: float) -> profiles.Profile:
    base = profiles.PROFILES["smoke"]
    sampling = dataclasses.replace(base.cases, target_ci=target, budget_s=budget, more_processes=1)
    return dataclasses.replace(base, cases=sampling)


@pytest.mark.parametrize(
    ("target", "budget", "stop"),
    [(0.5, 20.0, "target"), (1e-9, 3.0, "budget"), (1e-9, 0.0, "one batch")],
)
def test_sampling_stops_at_its_target_or_its_budget(
    tmp_path: Path, artifacts: Artifacts, target: float, budget: float, stop: str
) -> None:
    case = cases.get_case("c.clock.monotonic")
    outcome = runner.run_case(case, _profile(target, budget), artifacts, tmp_path)
    assert outcome.status == "ok", outcome.reason
    assert outcome.stop == stop
    half, _ = runner.precision(outcome.raw_json)
    assert outcome.ci_half_width == pytest.approx(half)
    if stop == "target":
        # One process a batch: a CI from fewer processes never meets a target.
        assert outcome.batches == stats.MIN_PROCESSES_FOR_CI and half <= target
    if stop == "budget":
        # More than one batch, and it stopped before running past its budget by a batch.
        assert outcome.batches >= 2
        assert outcome.wall_s < budget + 3.0
    measured = [r for r in pyperf.Benchmark.load(str(outcome.raw_json)).get_runs() if r.values]
    assert len(measured) == outcome.batches  # one process per batch in this profile
    # Every batch times the same loop count: later batches do not recalibrate.
    assert len({r.get_metadata()["loops"] for r in measured}) == 1


def test_repeat_runs_interleaved_passes_and_keeps_every_batch(tmp_path: Path) -> None:
    out = tmp_path / "repeat"
    only = "c.ucontext,go.gosched.p1,c.clock.monotonic"
    done = switchbench(
        "run", "--profile", "smoke", "--only", only, "--repeat", "3", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("pass ") >= 3
    run = json.loads((out / "run.json").read_text())
    assert run["repeat"] == 3
    for record in run["cases"].values():
        assert record["status"] == "ok" and record["passes"] == 3
        assert record["stop"] == "3 of 3 interleaved passes"
    summary = pd.read_csv(out / "summary.csv").set_index("case")
    # smoke takes one process per batch: three passes, three processes per case.
    assert (summary.loc[only.split(","), "processes"] == 3).all()
    samples = pd.read_csv(out / "samples.csv")
    sized = samples[samples["kind"] == "sized"].groupby("case")["ops"].nunique()
    assert (sized == 4).all()  # the four loop counts of the regression

    again = switchbench("run", "--resume", str(out), "--repeat", "2")
    assert again.returncode == 2 and "drop --only, --out and --repeat" in again.stderr
    bad = switchbench("run", "--repeat", "0", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "--repeat" in bad.stderr


def test_go_test_bench_figures_are_read_per_case(tmp_path: Path) -> None:
    from bench.measure.selfbench import GO_TEST_CASES, build_go_test, go_test_bench

    rows = go_test_bench(build_go_test(tmp_path), count=1, benchtime="20ms")
    assert {r["case"] for r in rows} == set(GO_TEST_CASES.values())
    assert all(r["ns_per_switch"] > 0 for r in rows)


def test_suite_and_go_test_are_paired_round_by_round(tmp_path: Path) -> None:
    from bench.measure.selfbench import GO_TEST_CASES, go_test_agreement, gotest_lines

    paired = go_test_agreement(tmp_path, rounds=2, go_count=1, benchtime="20ms")
    # Every round holds both tools' figure for every case, and the ratio is theirs.
    assert sorted(paired["round"].unique()) == [1, 2]
    assert (paired.groupby("round")["case"].apply(set) == set(GO_TEST_CASES.values())).all()
    assert np.allclose(paired["ratio"], paired["suite_ns"] / paired["gotest_ns"])
    assert (paired["suite_ns"] > 0).all() and (paired["gotest_ns"] > 0).all()
    text = "\n".join(gotest_lines(paired, 1))
    assert "2 interleaved rounds" in text
    for case in GO_TEST_CASES.values():
        assert f"`{case}`" in text


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


def test_selfbench_refuses_an_unknown_profile(tmp_path: Path) -> None:
    done = switchbench("selfbench", "--profiles", "quick,fastest", "--out", str(tmp_path / "s"))
    assert done.returncode == 2 and "fastest" not in done.stdout
    assert "name profiles from" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    rounds = switchbench("selfbench", "--go-rounds", "-1", "--out", str(tmp_path / "r"))
    assert rounds.returncode == 2 and "--go-rounds" in rounds.stderr
    assert len(rounds.stderr.strip().splitlines()) == 1
