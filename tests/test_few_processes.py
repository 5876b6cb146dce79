"""A CI from fewer worker processes than stats.MIN_PROCESSES_FOR_CI covers only
those processes: such a case never stops on its CI target, the summary marks it in
`trust`, and the report and compare label its CI as within-process."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyperf
import pytest

from bench.analysis import stats
from bench.analysis import summary as analyse
from bench.catalogue import cases, profiles
from bench.measure import runner
from bench.native.bridge import COUNTER_NAMES
from bench.native.build import Artifacts
from bench.render import compare, report
from bench.results import schema
from tests.conftest import ROOT, scale_times

MIN = stats.MIN_PROCESSES_FOR_CI
CASE = "c.clock.monotonic"
LOOPS = 1000
REFERENCE = ROOT / "results" / "reference"
GOROUTINE, THREAD = "go.chan.p1", "c.condvar.same-core"
# A case whose samples the tests move into 2 worker processes.
TWO_PROCESSES = "c.futex.same-core"


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


def test_trust_marks_a_ci_from_too_few_processes_and_keeps_other_doubts() -> None:
    assert stats.trust(100, 99.9, 100.1, 0.999, processes=1) == "CI within one process"
    assert stats.trust(100, 99.9, 100.1, 0.999, processes=2) == "CI within 2 processes"
    assert stats.trust(100, 99.9, 100.1, 0.999, processes=MIN) == "ok"
    both = stats.trust(100, 80, 120, 0.5, processes=1)
    assert both == "CI ±20% > ±10%; CI within one process; R² 0.50 < 0.95"
    assert stats.trust(100, float("nan"), float("nan"), 0.999, processes=1) == "ok"
    # As a summary read back from CSV gives the count: a NumPy number, or NaN if unknown.
    assert stats.within_processes(np.int64(1)) == "within one process"
    assert stats.within_processes(np.float64(2.0)) == "within 2 processes"
    assert stats.within_processes(np.int64(MIN)) == stats.within_processes(np.nan) == ""


def _samples(case: str, processes: int, level: float = 100.0, per: int = 4) -> pd.DataFrame:
    """Timed samples of one case as bench.analysis.tidy writes them, `per` values a process."""
    n = processes * per
    frame = pd.DataFrame(
        {
            "case": case,
            "process": np.repeat(np.arange(1, processes + 1), per),
            "sample": range(1, n + 1),
            "kind": "timed",
            "ops": 500,
            "switches": 1000,
            "ns_per_switch": level * (1 + 0.001 * (np.arange(n) % 5)),
            "voluntary_ctx": 0,
            "involuntary_ctx": 0,
            "os_ctx_switches_per_switch": 0.0,
        }
    )
    for name in COUNTER_NAMES:
        frame[name] = float("nan")
    return frame


THREE = ("go.chan.p1", "c.condvar.same-core", "c.syscall.getppid")


def _summary(processes: dict[str, int], scale: float = 1.0) -> pd.DataFrame:
    samples = pd.concat(
        [_samples(c, p, level=scale * (100 + 50 * i)) for i, (c, p) in enumerate(processes.items())]
    )
    summary = analyse.summarise(samples, [cases.get_case(c) for c in processes], {})
    for column in ("reason", "sweep", "unit", "one_op", "os_ctx_check", "trust", "stop"):
        summary[column] = summary[column].astype("object").fillna("")
    return summary


def test_summarise_marks_trust_below_the_minimum_only() -> None:
    summary = _summary(dict(zip(THREE, (1, 2, MIN), strict=True))).set_index("case")
    assert list(summary.columns) == schema.SUMMARY_COLUMNS[1:]  # no column added
    assert summary.loc["go.chan.p1", "trust"] == "CI within one process"
    assert summary.loc["c.condvar.same-core", "trust"] == "CI within 2 processes"
    assert summary.loc["c.syscall.getppid", "trust"] == "ok"
    assert summary.loc["go.chan.p1", "processes"] == 1


# The report and compare read result folders: copies of the committed reference run
# (a default run, whose sweep points took 2 processes), with go.chan.p1 turned into a
# one-process case (as the quick profile measures it) where a test says so.


def _copy(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    shutil.copytree(REFERENCE, out, ignore=shutil.ignore_patterns("raw", "*.png", "*.svg"))
    return out


def _one_process(folder: Path, case: str = GOROUTINE, count: int = 1) -> None:
    """Every sample of `case` moved into one worker process (or `count`), and its
    summary row to match."""
    samples = pd.read_csv(folder / "samples.csv")
    mine = samples["case"] == case
    samples.loc[mine, "process"] = (samples.loc[mine, "process"] - 1) % count + 1
    samples.to_csv(folder / "samples.csv", index=False)
    summary = pd.read_csv(folder / "summary.csv")
    row = summary["case"] == case
    summary.loc[row, "processes"] = count
    first = summary[row].iloc[0]
    summary.loc[row, "trust"] = stats.trust(
        first["ns_per_switch"], first["ci_low"], first["ci_high"], first["r_squared"], count
    )
    summary.to_csv(folder / "summary.csv", index=False)


def _enough_processes(folder: Path) -> None:
    """Every measured case's summary row says MIN processes or more."""
    summary = pd.read_csv(folder / "summary.csv")
    summary["processes"] = summary["processes"].clip(lower=MIN)
    summary.to_csv(folder / "summary.csv", index=False)


def _rows(text: str, case: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"| `{case}` |")]


def test_the_report_labels_a_within_process_ci(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "quickish")
    _one_process(folder)
    _one_process(folder, TWO_PROCESSES, 2)
    text = report.write_report(folder).read_text()
    table = text.split("## All cases")[1].split("## Precision")[0]
    (go,) = _rows(table, GOROUTINE)
    assert "(within one process)" in go
    (thread,) = _rows(table, THREAD)  # 10 processes: an interval across them
    assert "within" not in thread
    # The sentence under the table, computed from the data: go.chan.p1 and a case cut
    # to 2 processes.
    summary = pd.read_csv(folder / "summary.csv")
    few = int(((summary["status"] == "ok") & (summary["processes"] < MIN)).sum())
    assert few > 1
    assert f"{few} of {len(summary)} measured cases rest on fewer than {MIN} worker" in table
    assert "*within 2 processes* or *within one process*" in table
    assert "separate runs will differ by more than that interval" in table
    # The precision table labels the CI's half-width and flags the case.
    (line,) = _rows(text.split("## Precision")[1].split("\n## ")[0], GOROUTINE)
    assert "% (within one process) |" in line and "CI within one process" in line
    # The answer at the top quotes the goroutine switch's CI with its label too.
    assert ", within one process), " in text.split("## All cases")[0]


def test_the_report_says_nothing_of_it_when_every_case_has_enough(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "enough")
    _enough_processes(folder)
    text = report.write_report(folder).read_text()
    assert "(within" not in text and ", within" not in text
    assert "worker processes, and their CI is marked" not in text


def _compare(tmp_path: Path, a: Path, b: Path) -> tuple[pd.DataFrame, str]:
    md_path = compare.write_comparison([a, b], tmp_path / "cmp")
    table = pd.read_csv(md_path.parent / "compare.csv")
    return table[table["run"] == 1].set_index("case"), md_path.read_text()


def test_compare_does_not_call_a_within_process_difference_significant(tmp_path: Path) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    for folder in (a, b):
        _one_process(folder)
        _one_process(folder, TWO_PROCESSES, 2)
    scale_times(b, 1.6)
    second, text = _compare(tmp_path, a, b)
    # go.chan.p1 took one process in each run: its ratio's CI excludes 1, but that CI
    # covers only the one process of each run.
    go = second.loc[GOROUTINE]
    assert go["ratio_ci_low"] > 1.1
    assert pd.isna(go["significant"])
    assert go["verdict"] == "looks slower (CI within one process: not judged)"
    assert str(second.loc[THREAD, "significant"]) == "True"
    assert second.loc[THREAD, "verdict"] == "slower"

    every = text.split("## Every case")[1].split("\n## ")[0]
    (go_line,) = _rows(every, GOROUTINE)
    assert go_line.count(", within one process)") == 2  # both runs' CIs
    assert "looks slower (CI within one process: not judged)" in go_line
    (thread_line,) = _rows(every, THREAD)
    assert "within" not in thread_line and "**slower**" in thread_line
    differences = text.split("## Differences")[1].split("## Every case")[0]
    unjudged = int((second["significant"].isna() & second["ratio_ci_low"].notna()).sum())
    assert unjudged > 1  # go.chan.p1 and the case cut to 2 processes
    assert f"; {unjudged} more look different, but on a within-process CI: not judged" in (
        differences
    )
    assert f"rests on fewer than {MIN} worker processes" in differences


def test_compare_marks_a_within_process_ci_on_either_side(tmp_path: Path) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    for folder in (a, b):
        _enough_processes(folder)
    _one_process(b)  # only the second run took one process of go.chan.p1
    scale_times(b, 1.6)
    second, text = _compare(tmp_path, a, b)
    assert pd.isna(second.loc[GOROUTINE, "significant"])
    assert second.loc[GOROUTINE, "verdict"].startswith("looks slower")
    (go_line,) = _rows(text.split("## Every case")[1].split("\n## ")[0], GOROUTINE)
    assert go_line.count("within one process") == 2  # b's CI, and the verdict


def test_compare_with_enough_processes_judges_and_marks_nothing(tmp_path: Path) -> None:
    a, b = _copy(tmp_path, "a"), _copy(tmp_path, "b")
    for folder in (a, b):
        _enough_processes(folder)
    scale_times(b, 1.6)
    second, text = _compare(tmp_path, a, b)
    assert str(second.loc[GOROUTINE, "significant"]) == "True"
    assert second.loc[GOROUTINE, "verdict"] == "slower"
    assert "within one process" not in text and "within-process" not in text
