"""Harness overhead: the minimal loops with no harness, the timer, and the report's section."""

import dataclasses
import json
import math
import re
import subprocess

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from bench.catalogue.placement import affinity_refused, pin_cpus, usable_cpus
from bench.errors import UsageError
from bench.measure import overhead
from bench.results import read, schema

REPEATS = 3
TARGET_MS = 5.0  # short loops: the tests check the plumbing, not the figures


def _lines(argv):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


def _same_core_cpu():
    return -1 if affinity_refused() else pin_cpus("same-core", usable_cpus())[0]


def _check_loops(lines, n):
    assert len(lines) == REPEATS
    for line in lines:
        assert line["round_trips"] == n
        assert math.isfinite(line["ns_per_switch"]) and line["ns_per_switch"] > 0
        assert line["ns_per_switch"] == pytest.approx(line["elapsed_ns"] / (2 * n), rel=1e-3)


def test_the_minimal_go_loop_runs(artifacts):
    assert artifacts.go_minimal is not None and artifacts.go_minimal.is_file()
    lines = _lines([str(artifacts.go_minimal), "-n", "2000", "-repeat", str(REPEATS)])
    _check_loops(lines, 2000)
    assert all(line["gomaxprocs"] == 1 for line in lines)


def test_the_minimal_c_loop_runs(artifacts):
    assert artifacts.c_minimal is not None and artifacts.c_minimal.is_file()
    cpu = _same_core_cpu()
    lines = _lines([str(artifacts.c_minimal), "200", str(REPEATS), str(cpu)])
    _check_loops(lines, 200)
    assert all(line["cpu"] == cpu for line in lines)


@pytest.mark.parametrize("argv", [["x"], ["0", "1", "0"], ["10", "1", "-2"], ["--timer", "1"]])
def test_the_minimal_c_program_refuses_bad_arguments(artifacts, argv):
    done = subprocess.run(
        [str(artifacts.c_minimal), *argv], capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 2 and "usage" in done.stderr


@pytest.mark.parametrize(
    ("lang", "flag"), [("c", ["--timer", "5", "100", "1000"]), ("go", ["-timer", "-batches", "5"])]
)
def test_the_timer_is_measured(artifacts, lang, flag):
    program = artifacts.c_minimal if lang == "c" else artifacts.go_minimal
    (result,) = _lines([str(program), *flag])
    assert len(result["call_ns"]) == 5 and all(x > 0 for x in result["call_ns"])
    assert result["min_step_ns"] > 0
    if lang == "c":
        assert result["getres_ns"] > 0


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
        artifacts, out, _summary(), repeats=REPEATS, progress=said.append, target_ms=TARGET_MS
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
        assert row["ci_low"] <= row["minimal_ns"] <= row["ci_high"]


def test_the_ratio_is_suite_over_minimal(measured):
    _, frame, _ = measured
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
    frame = overhead.measure(fast, tmp_path, None, repeats=REPEATS, target_ms=TARGET_MS)
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
    frame = overhead.measure(broken, tmp_path / "out", _summary(), repeats=REPEATS)
    assert (frame["status"] == "failed").all()
    assert "not JSON" in _row(frame, "minimal.go.chan.p1")["reason"]
    assert _row(frame, "timer.c.clock_getres")["reason"] == "it broke <here>"
    assert math.isnan(_row(frame, "minimal.go.chan.p1")["ratio"])
    missing = dataclasses.replace(artifacts, go_minimal=tmp_path / "absent", c_minimal=None)
    frame = overhead.measure(missing, tmp_path / "out2", None, repeats=REPEATS)
    assert (frame["status"] == "skipped").all()
    assert "has not been built" in _row(frame, "timer.go.time_now")["reason"]
    assert (tmp_path / "out2" / schema.OVERHEAD_CSV).is_file()


def test_section_reports_suite_minimal_and_timer(measured):
    out, frame, _ = measured
    text = "\n".join(overhead.section_lines(read.load_overhead(out)))
    assert text.startswith("## Harness overhead and the timer")
    go = _row(frame, "minimal.go.chan.p1")
    assert f"| {go['ratio']:.3g} |" in text
    agrees = abs(go["ratio"] - 1) <= overhead.AGREE_WITHIN
    assert ("`go.chan.p1`: the suite and the minimal loop agree within 10%" in text) == agrees
    assert ("more than 10%" in text) == (not agrees)
    assert "not measured (skipped)" in text  # the condvar case, skipped by the suite
    assert "clock\\_getres" in text and "does not limit" in text


def test_section_agreement_is_computed(tmp_path):
    rows = []
    for case, suite, minimal in (("go.chan.p1", 105.0, 100.0), ("c.condvar.same-core", 130, 100)):
        row = dict.fromkeys(schema.OVERHEAD_COLUMNS, "")
        row.update(case=f"minimal.{case}", kind="loop", suite_case=case, status="ok")
        row.update(suite_status="ok", suite_ns=suite, minimal_ns=minimal, ratio=suite / minimal)
        rows.append(row)
    pd.DataFrame(rows).to_csv(tmp_path / schema.OVERHEAD_CSV, index=False)
    text = "\n".join(overhead.section_lines(read.load_overhead(tmp_path)))
    assert "`go.chan.p1`: the suite and the minimal loop agree within 10%" in text
    assert "`c.condvar.same-core` (+30%): the suite and the minimal loop differ" in text


HOSTILE = "<script>alert(1)</script> | **x** [y](javascript:z) `q` _u_ # &amp;"


NUMERIC_OVERHEAD_COLUMNS = {
    "minimal_ns", "ci_low", "ci_high", "suite_ns", "suite_ci_low", "suite_ci_high", "ratio",
    "round_trips", "samples", "processes",
}  # fmt: skip


def test_section_escapes_hostile_strings(tmp_path):
    rows = []
    for kind in ("loop", "timer cost", "timer resolution"):
        for status in ("ok", "failed"):
            # Hostile text in every text column; numeric ones must hold numbers (a folder
            # whose numbers are text is refused whole: tests/test_hostile.py).
            row = {
                c: "" if c in NUMERIC_OVERHEAD_COLUMNS else HOSTILE for c in schema.OVERHEAD_COLUMNS
            }
            row.update(kind=kind, status=status, minimal_ns=100, samples=3, round_trips=10)
            rows.append(row)
    pd.DataFrame(rows).to_csv(tmp_path / schema.OVERHEAD_CSV, index=False)
    lines = overhead.section_lines(read.load_overhead(tmp_path))
    text = "\n".join(lines)
    assert "<" not in text.replace("\\<", "")  # every < escaped, so no raw HTML
    # Rendered as report.html renders it: nothing of the string becomes markup.
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    for markup in ("<script", "<a ", "<strong>x", "<em>u", "<code>q", "<h1>"):
        assert markup not in html
    for line in lines:
        if line.startswith("|"):
            # Every row of a table has as many unescaped pipes as its header.
            cells = len(re.findall(r"(?<!\\)\|", line))
            assert cells in (4, 7), line


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00garbage", b'case,status\n"unterminated\n', b"a,b\n1,2\n"],
)
def test_a_damaged_file_is_refused_in_one_line(tmp_path, content):
    (tmp_path / schema.OVERHEAD_CSV).write_bytes(content)
    with pytest.raises(UsageError, match=schema.OVERHEAD_CSV):
        read.load_overhead(tmp_path)


def test_no_file_no_section(tmp_path):
    assert read.load_overhead(tmp_path) is None
    assert overhead.section_lines(None) == []


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
    frame = overhead.measure(
        artifacts, tmp_path, _summary(), repeats=REPEATS, target_ms=TARGET_MS, twins=twins
    )
    go_row = _row(frame, "minimal.go.chan.p1")
    assert go_row["measured"] == overhead.MEASURED_BETWEEN and go_row["samples"] == 4
    assert go_row["minimal_ns"] == go["minimal_ns"]
    c_row = _row(frame, "minimal.c.condvar.same-core")
    assert c_row["measured"] == overhead.MEASURED_AFTER and c_row["processes"] == 1
    text = "\n".join(overhead.section_lines(read.load_overhead(tmp_path)))
    assert "4 timed loops in 2 processes, measured between the suite case's batches" in text


def test_a_twin_that_fails_is_a_row_and_the_case_goes_on(artifacts):
    broken = dataclasses.replace(artifacts, go_minimal=artifacts.go_minimal.with_name("absent"))
    twins = overhead.Twins(broken, loops_per_batch=2, target_ms=TARGET_MS)
    twins.after_batch("go.chan.p1")
    twins.after_batch("go.chan.p1")
    row = twins.row(overhead.LOOPS[0])
    assert row["status"] in ("skipped", "failed") and "minimal" in row["reason"]
