"""Precision: the regression on loop count, adaptive sampling to a CI target, and
interleaved passes (--repeat)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyperf
import pytest

from bench.analysis import stats
from bench.catalogue import cases, profiles
from bench.measure import runner
from bench.native.build import Artifacts


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
    found = runner.measured(outcome.raw_json)
    half = found.half_width
    assert outcome.ci_half_width == pytest.approx(half)
    if stop == "target":
        # One process a batch: a CI from fewer processes never meets a target, and one
        # from enough stops the case as soon as it is within it (a loaded machine may
        # need a batch more to get there). The raw CI meets it, or else the trusted
        # mood-adjusted one does, and the stop says which.
        assert outcome.batches >= stats.MIN_PROCESSES_FOR_CI
        if outcome.stop == "target (mood-adjusted)":
            assert half > target >= found.adjusted_half_width
        else:
            assert outcome.stop == "target" and half <= target
    else:
        assert outcome.stop == stop
    if stop == "budget":
        # More than one batch, and it stopped before running past its budget by a batch.
        assert outcome.batches >= 2
        assert outcome.wall_s < budget + 3.0
    measured = [r for r in pyperf.Benchmark.load(str(outcome.raw_json)).get_runs() if r.values]
    assert len(measured) == outcome.batches  # one process per batch in this profile
    # Every batch times the same loop count: later batches do not recalibrate.
    assert len({r.get_metadata()["loops"] for r in measured}) == 1


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
