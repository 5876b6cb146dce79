"""Harness overhead: the minimal loops with no harness, the timer, and the report's section."""

import dataclasses
import math

import pandas as pd
import pytest

from bench.analysis import stats
from bench.analysis.overhead import with_suite
from bench.measure import overhead
from bench.render import overhead as render_overhead
from bench.results import read, schema

REPEATS = 3


TARGET_MS = 5.0  # short loops: the tests check the plumbing, not the figures


def _summary(go_ns=200.0, condvar_status="skipped", clock_ns=30.0):
    return pd.DataFrame(
        [
            {"case": "go.chan.p1", "status": "ok", "ns_per_switch": go_ns, "ci_low": go_ns * 0.98,
             "ci_high": go_ns * 1.02},
            {"case": "c.condvar.same-core", "status": condvar_status, "ns_per_switch": math.nan,
             "ci_low": math.nan, "ci_high": math.nan},
            {"case": "c.clock.monotonic", "status": "ok", "ns_per_switch": clock_ns,
             "ci_low": clock_ns, "ci_high": clock_ns},
        ]
    )  # fmt: skip


@pytest.fixture(scope="module")
def measured(artifacts, tmp_path_factory):
    out = tmp_path_factory.mktemp("overhead")
    said = []
    frame = overhead.measure(
        artifacts, out, repeats=REPEATS, progress=said.append, target_ms=TARGET_MS
    )
    return out, frame, said


def _row(frame, case):
    rows = frame[frame["case"] == case]
    assert len(rows) == 1
    return rows.iloc[0]


def test_measure_writes_every_row(measured):
    out, frame, said = measured
    assert list(frame.columns) == schema.OVERHEAD_COLUMNS
    assert (frame["status"] == "ok").all(), frame["reason"].tolist()
    assert set(frame["case"]) == {
        "minimal.go.chan.p1",
        "minimal.c.condvar.same-core",
        "timer.c.clock_gettime",
        "timer.c.clock_getres",
        "timer.c.clock_gettime.step",
        "timer.go.time_now",
        "timer.go.time_now.step",
    }
    assert (frame["minimal_ns"] > 0).all()
    assert any("calibrating" in s for s in said)
    again = pd.read_csv(out / schema.OVERHEAD_CSV)
    assert list(again.columns) == schema.OVERHEAD_COLUMNS and len(again) == len(frame)
    assert not list(out.glob("*.tmp"))


def test_loops_have_median_ci_and_their_round_trips(measured):
    _, frame, _ = measured
    for case in ("minimal.go.chan.p1", "minimal.c.condvar.same-core"):
        row = _row(frame, case)
        assert row["samples"] == REPEATS and row["round_trips"] >= 1
        # A CI of positive times, strictly around the median of timings that vary.
        assert 0 < row["ci_low"] < row["minimal_ns"] < row["ci_high"]


def test_the_ratio_is_suite_over_minimal(measured):
    _, measured_frame, _ = measured
    # overhead.csv holds only what was measured; the suite's side is joined from summary.csv.
    assert not set(schema.OVERHEAD_SUITE_COLUMNS) & set(measured_frame.columns)
    frame = with_suite(measured_frame, _summary())
    go = _row(frame, "minimal.go.chan.p1")
    assert go["suite_status"] == "ok" and go["suite_ns"] == 200.0
    assert go["ratio"] == pytest.approx(go["suite_ns"] / go["minimal_ns"])
    clock = _row(frame, "timer.c.clock_gettime")
    assert clock["suite_case"] == "c.clock.monotonic"
    assert clock["ratio"] == pytest.approx(30.0 / clock["minimal_ns"])
    # The suite skipped the condvar case: measured here, but no ratio.
    condvar = _row(frame, "minimal.c.condvar.same-core")
    assert condvar["suite_status"] == "skipped" and math.isnan(condvar["ratio"])
    assert math.isnan(_row(frame, "timer.go.time_now")["ratio"])


def test_without_a_summary_there_is_no_ratio(artifacts, tmp_path):
    fast = dataclasses.replace(artifacts, c_minimal=None)
    frame = overhead.measure(fast, tmp_path, repeats=REPEATS, target_ms=TARGET_MS)
    frame = with_suite(frame, pd.DataFrame())
    go = _row(frame, "minimal.go.chan.p1")
    assert go["status"] == "ok" and go["suite_status"] == "absent" and math.isnan(go["ratio"])


def test_a_program_that_fails_is_a_row_not_an_exception(artifacts, tmp_path):
    garbage = tmp_path / "garbage"
    garbage.write_text("#!/bin/sh\necho 'not json'\n")
    garbage.chmod(0o755)
    failing = tmp_path / "failing"
    failing.write_text("#!/bin/sh\necho 'it broke <here>' >&2\nexit 1\n")
    failing.chmod(0o755)
    broken = dataclasses.replace(artifacts, go_minimal=garbage, c_minimal=failing)
    frame = with_suite(overhead.measure(broken, tmp_path / "out", repeats=REPEATS), _summary())
    assert (frame["status"] == "failed").all()
    assert "not JSON" in _row(frame, "minimal.go.chan.p1")["reason"]
    assert _row(frame, "timer.c.clock_getres")["reason"] == "it broke <here>"
    assert math.isnan(_row(frame, "minimal.go.chan.p1")["ratio"])
    missing = dataclasses.replace(artifacts, go_minimal=tmp_path / "absent", c_minimal=None)
    frame = overhead.measure(missing, tmp_path / "out2", repeats=REPEATS)
    assert (frame["status"] == "skipped").all()
    assert "has not been built" in _row(frame, "timer.go.time_now")["reason"]
    assert (tmp_path / "out2" / schema.OVERHEAD_CSV).is_file()


def test_section_reports_suite_minimal_and_timer(measured):
    out, frame, _ = measured
    frame = with_suite(frame, _summary())
    text = "\n".join(render_overhead.section_lines(read.load_overhead(out), _summary()))
    assert text.startswith("## Harness overhead and the timer")
    go = _row(frame, "minimal.go.chan.p1")
    assert f"| {go['ratio']:.3g} |" in text
    agrees = abs(go["ratio"] - 1) <= stats.AGREE_WITHIN
    assert ("`go.chan.p1`: the suite and the minimal loop agree within 10%" in text) == agrees
    assert ("more than 10%" in text) == (not agrees)
    assert "not measured (skipped)" in text  # the condvar case, skipped by the suite
    assert "clock\\_getres" in text and "does not limit" in text


def test_twins_measure_a_loop_between_its_cases_batches(artifacts, tmp_path):
    twins = overhead.Twins(artifacts, loops_per_batch=2, target_ms=TARGET_MS)
    twins.after_batch("go.chan.p1")
    twins.after_batch("c.futex.same-core")  # no minimal twin: nothing happens
    twins.after_batch("go.chan.p1")
    go = twins.row(overhead.LOOPS[0])
    assert go["status"] == "ok" and go["processes"] == 2 and go["samples"] == 4
    assert go["measured"] == overhead.MEASURED_BETWEEN
    assert twins.row(overhead.LOOPS[1]) is None  # its suite case had no batch

    # measure() takes the twin's row and measures the other loop after the cases.
    frame = overhead.measure(artifacts, tmp_path, repeats=REPEATS, target_ms=TARGET_MS, twins=twins)
    go_row = _row(frame, "minimal.go.chan.p1")
    assert go_row["measured"] == overhead.MEASURED_BETWEEN and go_row["samples"] == 4
    assert go_row["minimal_ns"] == go["minimal_ns"]
    c_row = _row(frame, "minimal.c.condvar.same-core")
    assert c_row["measured"] == overhead.MEASURED_AFTER and c_row["processes"] == 1
    text = "\n".join(render_overhead.section_lines(read.load_overhead(tmp_path), _summary()))
    assert "4 timed loops in 2 processes, measured between the suite case's batches" in text


def test_a_twin_that_fails_is_a_row_and_the_case_goes_on(artifacts):
    broken = dataclasses.replace(artifacts, go_minimal=artifacts.go_minimal.with_name("absent"))
    twins = overhead.Twins(broken, loops_per_batch=2, target_ms=TARGET_MS)
    twins.after_batch("go.chan.p1")
    twins.after_batch("go.chan.p1")
    row = twins.row(overhead.LOOPS[0])
    assert row["status"] in ("skipped", "failed") and "minimal" in row["reason"]
