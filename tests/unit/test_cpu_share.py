"""Each timed value's CPU share: TimedRun's cpu_ns/wall_ns, the worker's metadata record
read back by tidy into samples.csv's cpu_share, and samples.csv with and without it."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from bench.analysis.tidy import samples_from_suite
from bench.measure.worker import CPU_SHARE_METADATA
from bench.native.bridge import COUNTER_NAMES, TimedRun, timed_run_from_sample
from bench.results.schema import SAMPLE_COLUMNS, SINCE_CPU_SHARE_SAMPLES

pytestmark = pytest.mark.unit


def test_cpu_share_is_cpu_over_wall_and_none_where_not_measured() -> None:
    run = TimedRun(10, 1000, 20, 20, 0, 0, 0, cpu_ns=600, wall_ns=1200)
    assert run.cpu_share == 0.5
    assert TimedRun(10, 1000, 20, 20, 0, 0, 0).cpu_share is None
    assert TimedRun(10, 1000, 20, 20, 0, 0, 0, cpu_ns=600).cpu_share is None
    assert TimedRun(10, 1000, 20, 20, 0, 0, 0, cpu_ns=600, wall_ns=0).cpu_share is None


def _driver_line(**extra: object) -> dict[str, object]:
    n = len(COUNTER_NAMES)
    line: dict[str, object] = {
        "ops": 10,
        "elapsed_ns": 1000,
        "handoffs": 20,
        "expected_handoffs": 20,
        "order_errors": 0,
        "voluntary_ctx": 1,
        "involuntary_ctx": 0,
        "counters": [None] * n,
        "counter_errors": ["not read"] * n,
    }
    return line | extra


def test_a_driver_line_gives_its_cpu_time_and_an_older_one_none() -> None:
    run = timed_run_from_sample(_driver_line(cpu_ns=900, wall_ns=1100))
    assert (run.cpu_ns, run.wall_ns) == (900, 1100)
    older = timed_run_from_sample(_driver_line())
    assert older.cpu_ns is None and older.cpu_share is None
    failed = timed_run_from_sample(_driver_line(cpu_ns=None, wall_ns=None))
    assert failed.cpu_share is None


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


def _samples(record: object) -> pd.DataFrame:
    metadata: dict[str, object] = {"loops": 10, "inner_loops": 2}
    if record is not None:
        metadata[CPU_SHARE_METADATA] = json.dumps(record)
    return samples_from_suite(_Suite([_Run([1e-7, 2e-7, 3e-7], metadata)]))  # type: ignore[arg-type]


def test_samples_carry_the_cpu_share_and_a_null_is_blank_not_zero(tmp_path) -> None:
    from bench.results.write import write_csv

    samples = _samples([0.75, None, 0.5])
    assert list(samples.columns) == SAMPLE_COLUMNS
    shares = samples["cpu_share"].tolist()
    assert shares[0] == 0.75 and shares[2] == 0.5
    assert math.isnan(shares[1])
    write_csv(samples, tmp_path / "samples.csv")
    cells = pd.read_csv(tmp_path / "samples.csv", dtype=str, keep_default_na=False)
    assert cells["cpu_share"].tolist() == ["0.75", "", "0.5"]


@pytest.mark.parametrize("record", [None, [0.5], [0.5, 0.5, "x"], "0.5"])
def test_a_missing_or_misaligned_record_is_unavailable_throughout(record: object) -> None:
    shares = _samples(record)["cpu_share"].tolist()
    if record == [0.5, 0.5, "x"]:  # one value's share is no number: only it is blank
        assert shares[:2] == [0.5, 0.5] and math.isnan(shares[2])
    else:
        assert all(math.isnan(v) for v in shares)


@pytest.mark.parametrize("with_share", [True, False])
def test_samples_csv_round_trip_with_and_without_the_cpu_share(tmp_path, with_share) -> None:
    from bench.errors import UsageError
    from bench.results.read import load_samples
    from bench.results.write import write_csv

    frame = pd.DataFrame(
        {
            "case": "c.x",
            "process": [1, 1, 2, 2],
            "sample": [1, 2, 1, 2],
            "kind": "timed",
            "ns_per_switch": [100.0, 110.0, 105.0, 120.0],
            "cpu_share": [0.9, math.nan, 0.8, 0.4],
        }
    )
    if not with_share:  # a folder from before the CPU share
        frame = frame.drop(columns=list(SINCE_CPU_SHARE_SAMPLES))
    write_csv(frame, tmp_path / "samples.csv")
    back = load_samples(tmp_path)
    if with_share:
        assert back["cpu_share"].drop(index=1).tolist() == [0.9, 0.8, 0.4]
        assert math.isnan(back.loc[1, "cpu_share"])
        # A negative share is no measurement: the folder is refused.
        frame.loc[0, "cpu_share"] = -0.5
        write_csv(frame, tmp_path / "samples.csv")
        with pytest.raises(UsageError, match="cpu_share"):
            load_samples(tmp_path)
    else:
        assert back["cpu_share"].isna().all()
