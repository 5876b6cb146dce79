"""Independent agreement: the pipe cases beside `perf bench sched pipe`."""

import os

import numpy as np
import pytest

from bench.analysis import agreement
from bench.measure import agree
from bench.native.bridge import TimedRun
from bench.render import agree as render_agree
from bench.results import schema
from tests.conftest import fake_perf, skip_unless_required

PROCS, THREADS = (pair.case for pair in agree.PAIRS)


class _FakeRunner:
    def __init__(self, case, calls, ns_per_switch=2100.0):
        self.case, self.calls, self.ns = case, calls, ns_per_switch

    def __call__(self, ops, count_perf=False):
        assert not count_perf  # timed runs go without perf counters
        self.calls.append(("suite", self.case, ops))
        elapsed = int(self.ns * 2 * ops)
        return TimedRun(ops, elapsed, 2 * ops, 2 * ops, 0, ops, ops)

    def close(self):
        pass


def _fake_suite(monkeypatch, calls):
    monkeypatch.setattr(agree, "runner_for", lambda case, artifacts: _FakeRunner(case.id, calls))


def test_measure_interleaves_and_alternates_the_order(monkeypatch, tmp_path):
    log = fake_perf(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    calls = []
    _fake_suite(monkeypatch, calls)
    rows = agree.measure(None, rounds=2, round_trips=500)
    assert list(rows.columns) == schema.AGREEMENT_COLUMNS
    assert len(rows) == 2 * len(agree.PAIRS) * 2
    order = list(zip(rows["comparison"], rows["source"], rows["round"], strict=True))
    first = [(p.case, s, 0) for p in agree.PAIRS for s in (agree.TOOL, agree.SUITE)]
    second = [(c, s, 1) for c, s, _ in reversed(first)]
    assert order == first + second
    assert set(rows["round_trips"]) == {500}
    tool = rows[rows["source"] == agree.TOOL]["ns_per_switch"]
    suite = rows[rows["source"] == agree.SUITE]["ns_per_switch"]
    assert np.allclose(tool, 2000.0) and np.allclose(suite, 2100.0)
    # Every timed perf run was asked for the same round trips as the case.
    timed = [line.split() for line in log.read_text().splitlines()][-4:]
    assert all(argv[-2:] == ["-l", "500"] for argv in timed)
    assert sum("-T" in argv for argv in timed) == 2


def test_a_failing_perf_run_stops_measure_with_one_line(monkeypatch, tmp_path):
    # Succeeds for the availability probe (-l 100) and fails on any other run.
    fake_perf(
        tmp_path,
        'case "$*" in *"-l 100") echo "   4.0 usecs/op"; echo "# Executed 100 pipe '
        'operations between two processes";;\n'
        '*) echo "perf: boom" >&2; exit 3;;\nesac\n',
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    _fake_suite(monkeypatch, [])
    with pytest.raises(agree.AgreementError) as caught:
        agree.measure(None, rounds=1, round_trips=300)
    assert "perf: boom" in str(caught.value) and "\n" not in str(caught.value)


def test_a_perf_that_ignores_threads_is_caught(monkeypatch, tmp_path):
    fake_perf(
        tmp_path,
        'for a in "$@"; do loops=$a; done\n'
        'echo "# Executed $loops pipe operations between two processes"\n'
        'echo "   4.0 usecs/op"\n',
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    _fake_suite(monkeypatch, [])
    with pytest.raises(agree.AgreementError, match="not threads"):
        agree.measure(None, rounds=1, round_trips=300)


def _table_rows(lines):
    return [line for line in lines if line.startswith("| ") and "---" not in line][1:]


def test_a_small_real_interleaved_measurement(artifacts):
    why = agree.tool_unavailable()
    if why:
        skip_unless_required("SWITCHBENCH_REQUIRE_PERF", why)
    rows = agree.measure(artifacts, rounds=2, round_trips=2000)
    assert len(rows) == 2 * len(agree.PAIRS) * 2
    assert (rows["ns_per_switch"] > 0).all() and rows["ns_per_switch"].notna().all()
    assert set(rows["cpu"]) == {min(os.sched_getaffinity(0))}
    summary = agreement.summarise(rows)
    assert list(summary["comparison"]) == [PROCS, THREADS]
    assert (summary["rounds"] == 2).all()
    # Not a test of agreement (two short rounds on a shared machine): of the plumbing,
    # that both sides time the same mechanism to within the same order of magnitude.
    assert ((summary["ratio"] > 0.2) & (summary["ratio"] < 5)).all()
    assert summary["agree"].isin(["yes", "no"]).all()
    lines = render_agree.section_lines(summary, None)
    assert len(_table_rows(lines)) == 2
