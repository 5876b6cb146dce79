"""The time split on real accounted runs: its two sources agree, its parts add up, and a
goroutine switch spends a larger share of its CPU time in user mode than a thread's."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench.analysis.timesplit import TOLERANCE, with_derived
from bench.catalogue.cases import get_case
from bench.catalogue.placement import skip_reason, usable_cpus
from bench.measure import timesplit
from bench.native.build import Artifacts
from bench.results.schema import TIMESPLIT_MEASURED

CASES = ("go.chan.p1", "c.futex.same-core", "c.condvar.same-core", "c.pipe.procs.same-core")


@pytest.fixture(scope="module")
def split(artifacts: Artifacts) -> pd.DataFrame:
    for case in CASES:
        why = skip_reason(get_case(case), usable_cpus())
        if why:
            pytest.skip(f"{case}: {why}")
    # 0.3 s: at 100 ticks a second, 30 ticks a CPU, so one tick is about 3% of a part.
    rows = [timesplit.account_case(get_case(c), artifacts, 0.3) for c in CASES]
    frame = with_derived(pd.DataFrame(rows).reindex(columns=TIMESPLIT_MEASURED))
    return frame.set_index("case")


def test_every_case_is_split(split: pd.DataFrame) -> None:
    assert list(split.index) == list(CASES)
    assert (split["status"] == "ok").all(), split["reason"].tolist()
    for case in CASES:
        row = split.loc[case]
        assert row["threads"] >= 2 if case.startswith("c.") else row["threads"] >= 1
        assert row["switches"] > 0 and row["region_ns"] > 0
        # A pinned same-core case is read on its one CPU; a Go case on every CPU it may use.
        expected = 1 if case.endswith("same-core") else len(usable_cpus())
        assert row["ncpus"] == expected


def test_schedstat_and_getrusage_agree(split: pd.DataFrame) -> None:
    for case in CASES:
        row = split.loc[case]
        on_cpu = row["thread_user_ns"] + row["thread_kernel_ns"]
        assert on_cpu > 0
        assert abs(row["thread_oncpu_ns"] / on_cpu - 1) <= TOLERANCE, case
        assert row["oncpu_agree"] == "yes"


def test_cpu_side_parts_cover_wall_times_cpus(split: pd.DataFrame) -> None:
    for case in CASES:
        row = split.loc[case]
        parts = sum(
            row[f"{p}_ns_per_switch"] for p in ("user", "kernel", "other", "irq", "idle", "steal")
        )
        assert math.isclose(parts, row["parts_ns_per_switch"])
        wall = row["region_ns"] * row["ncpus"] / row["switches"]
        assert abs(parts / wall - 1) <= TOLERANCE, (case, parts, wall)


def test_goroutine_switch_is_more_user_time_than_thread_switch(split: pd.DataFrame) -> None:
    go = split.loc["go.chan.p1", "user_share"]
    assert go > split.loc["c.futex.same-core", "user_share"]
    assert go > split.loc["c.condvar.same-core", "user_share"]
    # Each part the threads spent lies within the CPUs' busy time and the run's wall time.
    for case in CASES:
        row = split.loc[case]
        assert 0 <= row["user_share"] <= 1
        assert row["thread_oncpu_ns"] <= row["region_ns"] * row["ncpus"] * (1 + TOLERANCE)
