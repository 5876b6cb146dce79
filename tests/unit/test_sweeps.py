"""The sweeps' checks (median against slope, intercept against a run), the working-set
table that takes the touching off the ring, and the two condition-variable hand-offs set
side by side: each rendered from rows whose figures decide what the report must say."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench.render import answer, sweeps
from bench.results import schema


def _row(case: str, ns: float, **extra: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(schema.SUMMARY_COLUMNS, math.nan)
    row.update(
        case=case,
        status="ok",
        reason="",
        description="",
        unit="switch",
        one_op="",
        switches_per_op=2,
        sweep="",
        trust="ok",
        stop="",
        os_ctx_source="getrusage",
        os_ctx_check="ok (0–1)",
        ns_per_switch=ns,
        ci_low=ns * 0.98,
        ci_high=ns * 1.02,
        samples=15,
        processes=5,
        expected_os_ctx_switches_per_switch=1.0,
    )
    row.update(extra)
    return row


def _summary(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=schema.SUMMARY_COLUMNS)


def _point(case: str, ns: float, slope: float, intercept: float, run: float) -> pd.Series:
    return pd.Series(
        _row(case, ns, sweep="pairs", sweep_x=4, slope_ns_per_switch=slope,
             intercept_ns=intercept, run_ns=run)
    )  # fmt: skip


def test_a_point_passes_when_median_and_slope_agree_and_the_intercept_is_small() -> None:
    assert sweeps.point_check(_point("c.x", 1000, 1050, 1e4, 1e7)) == "ok"


@pytest.mark.parametrize(
    ("ns", "slope", "intercept", "said"),
    [
        (1200, 1000, 0.0, "median +20% off the slope"),
        (800, 1000, 0.0, "median -20% off the slope"),
        (1000, 1000, 1e6, "intercept +10.0% of a run"),
    ],
)
def test_a_point_that_times_more_than_switching_is_named(
    ns: float, slope: float, intercept: float, said: str
) -> None:
    point = _point("c.x", ns, slope, intercept, 1e7)
    assert said in sweeps.point_check(point)
    lines = "\n".join(sweeps.section_lines(_summary([point.to_dict()]), {}))
    assert "1 of 1 do not" in lines and said in lines


def test_the_working_set_table_takes_the_touching_off_the_ring() -> None:
    rows = [
        _row("go.chan.ring8-ws0k.p1", 130, sweep="ring", sweep_x=0),
        _row("go.chan.ring8-ws64k.p1", 600, sweep="ring", sweep_x=65536),
        _row("go.touch.ring8-ws64k.p1", 450, sweep="touch", sweep_x=65536, unit="turn"),
        _row("c.condvar.ring8-ws64k.same-core", 5000, sweep="ring", sweep_x=65536),
    ]
    table = sweeps.touch_table(_summary(rows)).set_index("ring_case")
    assert table.loc["go.chan.ring8-ws64k.p1", "switch_only_ns"] == pytest.approx(150)
    # The interval runs from the ends of both CIs: wider than either.
    low, high = table.loc["go.chan.ring8-ws64k.p1", ["switch_only_low", "switch_only_high"]]
    assert low == pytest.approx(600 * 0.98 - 450 * 1.02)
    assert high == pytest.approx(600 * 1.02 - 450 * 0.98)
    assert table.loc["go.chan.ring8-ws0k.p1", "switch_only_ns"] == 130  # nothing touched
    assert math.isnan(table.loc["c.condvar.ring8-ws64k.same-core", "touch_ns"])
    text = "\n".join(sweeps.section_lines(_summary(rows), {}))
    assert "| touch only (ns per turn) | switch only |" in text
    assert "| 64 KiB | goroutines | 600 ns | 450 ns | 150 ns |" in text
    assert "| 64 KiB | threads | 5,000 ns | not measured |" in text


def _condvars(under: float, after: float) -> pd.DataFrame:
    return _summary(
        [
            _row("c.condvar.same-core", 4000, os_ctx_switches_per_switch=under),
            _row("c.condvar.signal-unlocked.same-core", 2000, os_ctx_switches_per_switch=after),
        ]
    )


def test_the_condvar_twins_say_why_they_differ_from_their_counts() -> None:
    text = "\n".join(answer.condvar_section(_condvars(2.2, 1.0)))
    assert "made 1.2 more OS context switches per switch" in text
    assert "took 2.00× the time" in text
    assert "finds the mutex taken and sleeps again" in text


def test_the_condvar_twins_do_not_explain_a_difference_that_was_not_measured() -> None:
    text = "\n".join(answer.condvar_section(_condvars(1.05, 1.0)))
    assert "finds the mutex taken" not in text
    assert "about as many" in text
    assert answer.condvar_section(_condvars(2.0, 1.0).iloc[:1]) == []
