"""A CI from fewer worker processes than stats.MIN_PROCESSES_FOR_CI covers only
those processes: such a case never stops on its CI target, the summary marks it in
`trust`, and the report and compare label its CI as within-process."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.analysis import stats
from bench.analysis import summary as analyse
from bench.catalogue import cases
from bench.native.bridge import COUNTER_NAMES
from bench.results import schema

MIN = stats.MIN_PROCESSES_FOR_CI


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
