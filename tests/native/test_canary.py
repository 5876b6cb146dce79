"""The mood canary's native functions (c/canary.c through cffi, go/canary through the
driver): positive ns per load, the caller's CPU affinity put back, failures as None."""

import os

import pytest

from bench.catalogue.cases import get_case
from bench.native.bridge import CBody, _c_library, runner_for
from bench.native.canary import CHOSEN, SHAPES, Shape, canary_for


@pytest.mark.parametrize("case_id", ["c.futex.same-core", "c.futex.cross-core", "go.chan.p1"])
def test_every_shape_gives_positive_ns_per_load(case_id, artifacts, cpus):
    case = get_case(case_id)
    if case.placement == "cross-core" and len(cpus) < 2:
        pytest.skip("cross-core needs two CPUs")
    body = runner_for(case, artifacts)
    try:
        before = os.sched_getaffinity(0)
        for shape in SHAPES.values():
            ns = canary_for(body, shape)()
            assert ns is not None and ns > 0, shape.name
        # The C canary pins the calling thread to the case's CPU for the chase only.
        assert os.sched_getaffinity(0) == before
        run = body(100)
        run.check()  # the body still runs after the canaries
    finally:
        body.close()


def test_a_canary_that_cannot_run_is_none_not_zero(artifacts, cpus):
    body = runner_for(get_case("c.futex.same-core"), artifacts)
    assert isinstance(body, CBody)
    # A CPU this process may not use: the affinity call fails, and the canary says so.
    body.cpu_a = max(cpus) + 4096
    assert canary_for(body)() is None
    # A buffer too small to chase: no canary is made.
    assert canary_for(body, Shape("tiny", 64, 10, "one line"))() is None


def test_the_c_chase_reports_errors_as_negative(artifacts):
    ffi, lib = _c_library(artifacts.c_library)
    assert lib.sb_canary_new(64, 1) == ffi.NULL
    handle = lib.sb_canary_new(SHAPES[CHOSEN].bytes or 1 << 20, 1)
    try:
        assert lib.sb_canary_ns(handle, 0, 0, 1, -1) < 0
        assert lib.sb_canary_ns(handle, 0, 1000, 0, -1) < 0  # no stretch to time
        assert lib.sb_canary_ns(handle, 0, 5, 9, -1) < 0  # fewer loads than stretches
        assert lib.sb_canary_ns(handle, 0, 1000, 65, -1) < 0  # more than 64 stretches
        assert lib.sb_canary_ns(handle, 0, 1000, 1, -1) > 0
        assert lib.sb_canary_ns(handle, 0, 1000, 9, -1) > 0
    finally:
        lib.sb_canary_free(handle)


def _evict_caches() -> None:
    """Write through 128 MiB, more than the caches of any machine this runs on, so the
    canary's buffer is evicted as a case with a large working set would evict it."""
    block = bytearray(b"\x01") * (128 << 20)
    assert block[-1] == 1


def test_the_warm_lap_takes_the_eviction_out_of_the_chase(artifacts):
    # Timed from cold, one lap of the chase refills the buffer from memory; warmed
    # first, the same lap finds it in cache. The unwarmed canary would so measure how
    # much the case ran between two chases had evicted, not the machine.
    ffi, lib = _c_library(artifacts.c_library)
    shape = SHAPES[CHOSEN]
    handle = lib.sb_canary_new(shape.bytes, 1)
    assert handle != ffi.NULL
    try:
        cold, warm = [], []
        for _ in range(3):
            _evict_caches()
            lap = shape.warm_loads
            cold.append(lib.sb_canary_ns(handle, 0, lap, shape.laps, -1))
            _evict_caches()
            warm.append(lib.sb_canary_ns(handle, lap, lap, shape.laps, -1))
        assert min(cold) > 0 and min(warm) > 0
        assert sorted(cold)[1] > 1.5 * sorted(warm)[1], (cold, warm)
    finally:
        lib.sb_canary_free(handle)
