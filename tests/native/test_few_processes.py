"""A CI from fewer worker processes than stats.MIN_PROCESSES_FOR_CI covers only
those processes: such a case never stops on its CI target, the summary marks it in
`trust`, and the report and compare label its CI as within-process."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyperf
import pytest

from bench.analysis import stats
from bench.catalogue import cases, profiles
from bench.measure import runner
from bench.native.build import Artifacts

MIN = stats.MIN_PROCESSES_FOR_CI


CASE = "c.clock.monotonic"


LOOPS = 1000


def _fake_batch(
    case: cases.Case,
    sampling: profiles.Sampling,
    artifacts: Artifacts,
    out_json: Path,
    processes: int,
    loops: int | None,
    on_start: object,
) -> str | None:
    """What bench.measure.worker writes, without running anything: a calibration run (warm-ups
    only) when the file is new, then `processes` runs of values within 0.01% of 100 ns,
    a CI far inside any target."""
    metadata = {"name": case.id, "loops": loops or LOOPS}
    runs = [] if out_json.exists() else [pyperf.Run([], [(LOOPS, 1e-7)], metadata, False)]
    for p in range(processes):
        values = [1e-7 * (1 + 1e-5 * (p + k)) for k in range(sampling.values)]
        runs.append(pyperf.Run(values, [(LOOPS, 1e-7)], metadata, False))
    if out_json.exists():
        bench = pyperf.Benchmark.load(str(out_json))
        for run in runs:
            bench.add_run(run)
    else:
        bench = pyperf.Benchmark(runs)
    bench.dump(str(out_json), replace=True)
    return None


@pytest.fixture
def fake_workers(monkeypatch: pytest.MonkeyPatch) -> Artifacts:
    monkeypatch.setattr(runner, "_run_batch", _fake_batch)
    return Artifacts(Path("unused.so"), Path("unused"), Path("unused"))


def _profile(processes: int, budget_s: float) -> profiles.Profile:
    quick = profiles.PROFILES["quick"]
    sampling = dataclasses.replace(
        quick.cases, processes=processes, budget_s=budget_s, more_processes=1
    )
    return dataclasses.replace(quick, cases=sampling)


def test_measured_counts_worker_processes_not_the_calibration_run(
    tmp_path: Path, fake_workers: Artifacts
) -> None:
    case = cases.get_case(CASE)
    outcome = runner.run_case(case, _profile(2, 0.0), fake_workers, tmp_path)
    assert outcome.raw_json is not None
    assert len(pyperf.Benchmark.load(str(outcome.raw_json)).get_runs()) == 3
    found = runner.measured(outcome.raw_json)
    assert found.processes == 2 and found.loops == LOOPS
    assert runner.precision(outcome.raw_json) == (found.half_width, LOOPS)


def test_one_process_with_a_tiny_ci_never_stops_on_target(
    tmp_path: Path, fake_workers: Artifacts
) -> None:
    case = cases.get_case(CASE)
    quick = profiles.PROFILES["quick"]
    assert quick.cases.processes < MIN and quick.cases.budget_s == 0  # the profile
    outcome = runner.run_case(case, quick, fake_workers, tmp_path)
    assert outcome.status == "ok", outcome.reason
    # Its CI is far inside the target, yet one process cannot stop on it.
    assert outcome.ci_half_width < quick.cases.target_ci / 100
    assert outcome.stop == "one batch" and outcome.batches == 1


def test_an_adaptive_case_samples_on_until_it_has_enough_processes(
    tmp_path: Path, fake_workers: Artifacts
) -> None:
    case = cases.get_case(CASE)
    outcome = runner.run_case(case, _profile(1, 60.0), fake_workers, tmp_path)
    assert outcome.raw_json is not None
    assert outcome.stop == "target"
    assert outcome.batches == MIN  # one process per batch: stopped at the first it could
    assert runner.measured(outcome.raw_json).processes == MIN


def test_enough_processes_in_one_batch_may_stop_on_target(
    tmp_path: Path, fake_workers: Artifacts
) -> None:
    case = cases.get_case(CASE)
    outcome = runner.run_case(case, _profile(MIN, 0.0), fake_workers, tmp_path)
    assert outcome.stop == "target" and outcome.batches == 1
