"""The ladder (bench.analysis.ladder, bench.render.ladder) on the reference's summary and
on summaries changed on purpose: extra costs are differences, gaps are shown as gaps."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from bench.analysis.ladder import RUNGS, ladder
from bench.render import ladder as render
from tests.conftest import REFERENCE


@pytest.fixture
def summary() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "summary.csv", dtype={"reason": object})


def _rung(summary: pd.DataFrame, case: str):
    return next(r for r in ladder(summary) if r.spec.case == case)


def _set(summary: pd.DataFrame, case: str, **values: object) -> None:
    for column, value in values.items():
        summary.loc[summary["case"] == case, column] = value


def test_every_extra_cost_is_the_difference_of_its_rung_and_base(summary: pd.DataFrame) -> None:
    median = summary.set_index("case")["ns_per_switch"]
    low, high = summary.set_index("case")["ci_low"], summary.set_index("case")["ci_high"]
    with_base = 0
    for r in ladder(summary):
        if r.spec.base is None or not r.measured:
            assert math.isnan(r.extra_ns) and r.extra_why
            continue
        with_base += 1
        assert r.extra_ns == median[r.spec.case] - median[r.spec.base]
        assert r.extra_low == low[r.spec.case] - high[r.spec.base]
        assert r.extra_high == high[r.spec.case] - low[r.spec.base]
        assert r.extra_low <= r.extra_ns <= r.extra_high
    assert with_base >= 8  # every rung of the reference with a base was measured


def test_the_better_matched_bases(summary: pd.DataFrame) -> None:
    base = {s.case: s.base for s in RUNGS}
    assert base["c.pipe.procs.same-core"] == "c.pipe.threads.same-core"
    assert base["c.futex.cross-core"] == "c.futex.same-core"
    assert base["go.chan.locked.p1"] == "go.chan.p1"
    assert base["go.chan.p1"] == "go.gosched.p1"


def test_a_missing_or_skipped_rung_says_so(summary: pd.DataFrame) -> None:
    summary = summary[summary["case"] != "c.ucontext"].copy()
    _set(summary, "c.pipe.threads.same-core", status="skipped", reason="a <b>reason</b> | here")
    r = _rung(summary, "c.ucontext")
    assert r.status == "absent" and not r.measured and math.isnan(r.ns)
    procs = _rung(summary, "c.pipe.procs.same-core")
    assert procs.measured and math.isnan(procs.extra_ns)
    assert "c.pipe.threads.same-core skipped: a <b>reason</b> | here" in procs.extra_why
    text = "\n".join(render.section_lines(summary, {}))
    row = next(x for x in text.splitlines() if "`c.ucontext`" in x)
    assert row.endswith("| not in this run |")
    row = next(x for x in text.splitlines() if "`c.pipe.procs.same-core`" in x)
    assert "\\<b\\>reason\\</b\\> \\| here" in row  # escaped where it lands
    assert "<b>" not in text


def test_a_negative_extra_cost_is_shown_and_flagged(summary: pd.DataFrame) -> None:
    threads = float(
        summary.loc[summary["case"] == "c.pipe.threads.same-core", "ns_per_switch"].iloc[0]
    )
    _set(summary, "c.pipe.procs.same-core", ns_per_switch=threads / 2)
    r = _rung(summary, "c.pipe.procs.same-core")
    assert r.negative and r.extra_ns == pytest.approx(-threads / 2)
    row = next(x for x in render.section_lines(summary, {}) if "`c.pipe.procs.same-core`" in x)
    assert "−" in row and "negative" in row


def test_the_figure_has_one_bar_per_measured_rung(summary: pd.DataFrame, tmp_path: Path) -> None:
    paths = render.plot(summary, tmp_path)
    assert {p.suffix for p in paths} == {".png", ".svg"}
    svg = (tmp_path / "ladder.svg").read_text()
    for r in ladder(summary):
        assert r.spec.case in svg
    assert render.plot(summary.iloc[0:0], tmp_path / "none") == []


def test_compare_sets_the_ladders_side_by_side(summary: pd.DataFrame, tmp_path: Path) -> None:
    other = summary.copy()
    other["ns_per_switch"] *= 2
    lines = render.compare_lines(["a", "b"], [summary, other], [])
    row = next(x for x in lines if x.startswith("| 3 | `go.chan.p1`"))
    a, b = (
        float(s.loc[s["case"] == "go.chan.p1", "ns_per_switch"].iloc[0]) for s in (summary, other)
    )
    assert f"{a:,.0f} ns" in row and f"{b:,.0f} ns" in row
    assert render.plot_compare(["a", "b"], [summary, other], tmp_path)


def test_a_ci_from_few_processes_says_so(summary: pd.DataFrame) -> None:
    def row(s: pd.DataFrame) -> str:
        return next(x for x in render.section_lines(s, {}) if "`go.chan.p1`" in x)

    assert "within" not in row(summary)  # the reference's CIs rest on 4 processes or more
    _set(summary, "go.chan.p1", processes=1)
    assert "within one process)" in row(summary)
