"""Each timed run's CPU share (TimedRun.cpu_ns / wall_ns), measured through the bridge:
real and bounded for a C and a Go case, and lowered by a busy process on the case's CPU."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import pytest

from bench.catalogue import cases
from bench.catalogue.placement import usable_cpus
from bench.native.bridge import CBody, TimedRun, case_skip_reason, runner_for

SAME_CORE = "c.futex.same-core"
# Small loop counts: each run takes some tens of ms, long enough for the scheduler to
# share a CPU between the case and a busy process many times over.
SAME_CORE_OPS = 20_000
RUNS = 5


def _runs(case_id: str, artifacts, ops: int, count: int) -> list[TimedRun]:
    body = runner_for(cases.get_case(case_id), artifacts)
    try:
        return [body(ops) for _ in range(count)]
    finally:
        body.close()


@pytest.mark.parametrize("case_id", ["c.futex.same-core", "c.futex.cross-core", "go.chan.p1"])
def test_a_run_reports_its_cpu_time_within_what_the_cpus_allow(case_id, artifacts, cpus):
    why = case_skip_reason(cases.get_case(case_id), cpus)
    if why:
        pytest.skip(why)
    for run in _runs(case_id, artifacts, 2_000, 3):
        run.check()
        assert run.cpu_ns is not None and run.cpu_ns > 0
        assert run.wall_ns is not None and run.wall_ns > 0
        # The bracket holds the timed region (C times it inside the call, Go inside it).
        assert run.wall_ns >= run.elapsed_ns
        share = run.cpu_share
        assert share is not None and 0 < share <= len(usable_cpus()) + 0.1


def _share(run: TimedRun) -> float:
    share = run.cpu_share
    assert share is not None, "the CPU clock was not read"
    return share


def _hog(cpu: int) -> subprocess.Popen:
    """A process busy-looping on `cpu` only, started and on it before this returns."""
    hog = subprocess.Popen(
        [sys.executable, "-c", "while True: pass"],
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )
    time.sleep(0.3)  # let it start and settle on its CPU
    return hog


def test_a_busy_process_on_the_same_cpu_lowers_the_cpu_share(artifacts, cpus):
    """Two threads handing off on one CPU keep it busy, so undisturbed their share is
    high; a process spinning on that CPU takes part of the wall time from them, which
    their CPU time does not count. Runs with and without it alternate, so that load
    from elsewhere falls on both alike."""
    case = cases.get_case(SAME_CORE)
    why = case_skip_reason(case, cpus)
    if why:
        pytest.skip(why)
    body = CBody(case, artifacts.c_library)
    alone: list[float] = []
    beside: list[float] = []
    try:
        body(SAME_CORE_OPS)  # warm up
        for _ in range(RUNS):
            alone.append(_share(body(SAME_CORE_OPS)))
            hog = _hog(body.cpu_a)
            try:
                beside.append(_share(body(SAME_CORE_OPS)))
            finally:
                hog.kill()
                hog.wait()
    finally:
        body.close()
    quiet, busy = statistics.median(alone), statistics.median(beside)
    # Fair sharing gives the hog about half of the CPU; "clearly lower" asks for a
    # quarter less, which even a machine loaded from elsewhere keeps.
    assert busy < 0.75 * quiet, f"share {busy:.3f} beside a busy process, {quiet:.3f} alone"
