"""The native bodies, called directly at small loop counts."""

import errno

import pytest

from bench.catalogue import cases, expect, placement
from bench.native.bridge import NativeError, TimedRun, case_skip_reason, runner_for
from tests.conftest import skip_unless_required


def run_case(case_id, artifacts, ops):
    body = runner_for(cases.get_case(case_id), artifacts)
    try:
        return body(ops)
    finally:
        body.close()


def ctx_per_switch(run: TimedRun, switches_per_op: int = 2) -> float:
    return (run.voluntary_ctx + run.involuntary_ctx) / (switches_per_op * run.ops)


@pytest.mark.parametrize("case_id", [c.id for c in cases.all_cases()])
def test_every_case_alternates_without_lost_wakeups(case_id, artifacts, cpus):
    case = cases.get_case(case_id)
    why = case_skip_reason(case, cpus)
    if why:
        pytest.skip(why)
    for n in (1, 3, 40):
        run = run_case(case_id, artifacts, n)
        assert run.ops == n
        # Both sides of every hand-off counted it, in turn: none lost, none twice.
        assert run.handoffs == run.expected_handoffs == n * case.switches_per_op
        assert run.order_errors == 0
        run.check()
        assert run.elapsed_ns > 0
    # Two threads on one CPU hand off through the kernel scheduler, which shows in
    # getrusage's counts even at 40 ops (checking them for ">= 0" could never fail).
    # Cross-core and unpinned pairs may spin past the kernel at so few ops.
    if case.expected_os_ctx_range[0] >= 0.5 and case_id.endswith("same-core"):
        assert ctx_per_switch(run, case.switches_per_op) >= 0.5, case_id


def test_pinning_to_a_missing_cpu_is_an_error_not_a_crash(artifacts):
    from bench.native.bridge import CBody

    body = CBody(cases.get_case("c.condvar.same-core"), artifacts.c_library)
    body.cpu_a = body.cpu_b = 1 << 20
    with pytest.raises(NativeError, match="pinning"):
        body(10)


def test_goroutine_switch_on_one_p_stays_out_of_the_kernel(artifacts, cpus):
    """The relation the suite exists to show, at a small loop count: a goroutine hand-off
    on one P causes far fewer OS context switches than a thread hand-off on one CPU."""
    go = run_case("go.chan.p1", artifacts, 20_000)
    c = run_case("c.condvar.same-core", artifacts, 2_000)
    assert ctx_per_switch(c) >= 0.5, "each thread hand-off must go through the scheduler"
    assert ctx_per_switch(go) * 10 < ctx_per_switch(c)


@pytest.mark.parametrize(
    ("user_space", "kernel"),
    [
        ("go.chan.p1", "go.chan.locked.p1"),
        ("c.ucontext", "c.futex.same-core"),
        ("go.gosched.p1", "c.yield.same-core"),
    ],
)
def test_user_level_switches_avoid_the_kernel_scheduler(user_space, kernel, artifacts):
    """The same relation for the other twins: a user-level switch against a kernel one."""
    user = run_case(user_space, artifacts, 20_000)
    kern = run_case(kernel, artifacts, 1_000)
    assert ctx_per_switch(kern) >= 0.5
    assert ctx_per_switch(user) * 10 < ctx_per_switch(kern)


def test_working_set_is_touched(artifacts):
    """A ring with a working set must cost more per switch than one without (same run)."""
    small = min(run_case("go.chan.ring8-ws0k.p1", artifacts, 300).elapsed_ns for _ in range(3))
    large = min(run_case("go.chan.ring8-ws256k.p1", artifacts, 300).elapsed_ns for _ in range(3))
    assert large > small


def _perf_works(artifacts):
    from bench.native.bridge import probe_counters

    return probe_counters(artifacts.c_library)["context_switches"]["available"]


@pytest.mark.parametrize("case_id", ["c.condvar.same-core", "go.chan.locked.p1", "c.ucontext"])
def test_perf_and_getrusage_count_the_same_switches(case_id, artifacts):
    """Two independent readers of the kernel's switch counts agree over one region."""
    if not _perf_works(artifacts):
        pytest.skip("perf_event_open is refused here; the fallback tests cover this machine")
    body = runner_for(cases.get_case(case_id), artifacts)
    try:
        runs = [body(2_000, count_perf=True) for _ in range(5)]
    finally:
        body.close()
    counted = [r for r in runs if r.counters[0] is not None]
    assert counted, [r.counter_errors for r in runs]
    for run in counted:
        rusage = run.voluntary_ctx + run.involuntary_ctx
        assert run.counters[0] == pytest.approx(rusage, rel=0.05, abs=3)
        assert run.counters[2] > 0, "task-clock must advance over a timed region"


def test_unavailable_perf_is_reported_not_zero(artifacts, monkeypatch):
    monkeypatch.setenv("SWITCHBENCH_NO_PERF", "1")
    for case_id in ("c.condvar.same-core", "go.chan.p1"):
        case = cases.get_case(case_id)
        body = runner_for(case, artifacts)
        try:
            run = body(100)
        finally:
            body.close()
        assert all(v is None for v in run.counters), case_id
        assert all(err for err in run.counter_errors), case_id
        if case_id.startswith("c."):
            # getrusage still answers without perf: the thread hand-off shows its switches.
            assert ctx_per_switch(run, case.switches_per_op) >= 0.5, case_id


def test_timed_runs_leave_perf_off(artifacts):
    """Timing never runs with perf counters on: they would slow every switch."""
    for case_id in ("c.condvar.same-core", "go.chan.p1"):
        body = runner_for(cases.get_case(case_id), artifacts)
        try:
            run = body(100)
        finally:
            body.close()
        assert run.counters == (None,) * 8
        assert set(run.counter_errors) == {"not counted in this run"}


def _c_case(case_id: str, c_entry: str, placement: str, **fields: object) -> cases.Case:
    """A C case built directly (not from the catalogue), for the entry points' own tests."""
    return cases.Case(
        id=case_id,
        lang="c",
        primitive=str(fields.pop("primitive", c_entry)),
        placement=placement,
        what="a test body",
        op="one lap",
        switches_per_op=int(fields.pop("switches_per_op", 2)),
        expect=expect.Expect(0.0, 0.0, 1.0, "test"),
        c_entry=c_entry,
        **fields,
    )


def _run_body(case: cases.Case, artifacts, ops: int) -> TimedRun:
    body = runner_for(case, artifacts)
    try:
        return body(ops)
    finally:
        body.close()


def test_fcontext_switches_stay_in_user_space(artifacts):
    """Boost.Context's jump_fcontext makes no system call: the OS switches over a
    long ping-pong are a sliver of its switches (timer ticks, not the switches)."""
    from bench.native.bridge import fcontext_unavailable

    why = fcontext_unavailable(artifacts.c_library)
    if why:
        skip_unless_required("SWITCHBENCH_REQUIRE_BOOST", why)
    round_trips = 100_000
    run = _run_body(_c_case("c.fcontext.test", "fcontext", "unpinned"), artifacts, round_trips)
    run.check()
    assert run.order_errors == 0
    assert run.handoffs == run.expected_handoffs == 2 * round_trips
    assert run.voluntary_ctx + run.involuntary_ctx < 0.01 * 2 * round_trips


def test_fcontext_unavailable_says_what_to_install(artifacts):
    from bench.native.bridge import fcontext_unavailable

    why = fcontext_unavailable(artifacts.c_library)
    assert why is None or ("libboost_context.so" in why and "libboost-context-dev" in why)


def test_signalling_after_unlocking_saves_a_switch_on_one_cpu(artifacts, cpus):
    """On one CPU a waiter signalled under the mutex wakes to find it held and blocks
    again (about 2 OS switches per hand-off); signalled after the unlock it does not
    (about 1). Both measured here, in the same test."""
    refused = placement.affinity_refused()
    if refused:
        pytest.skip(f"this machine refuses CPU affinity ({refused})")
    round_trips = 20_000
    per_handoff = {}
    for primitive in ("condvar", "condvar-signal-unlocked"):
        case = _c_case(
            f"c.{primitive}.test", "ring", "same-core", primitive=primitive, c_primitive=primitive
        )
        run = _run_body(case, artifacts, round_trips)
        run.check()
        per_handoff[primitive] = ctx_per_switch(run)
    assert per_handoff["condvar-signal-unlocked"] < per_handoff["condvar"], per_handoff
    assert per_handoff["condvar-signal-unlocked"] <= 1.5, per_handoff


def test_spread_rings_each_hand_off_in_turn(artifacts):
    refused = placement.affinity_refused()
    if refused:
        pytest.skip(f"this machine refuses CPU affinity ({refused})")
    case = _c_case("c.futex.spread.test", "ring", "spread", c_primitive="futex", pairs=4)
    for laps in (1, 50):
        run = _run_body(case, artifacts, laps)
        run.check()
        assert run.handoffs == run.expected_handoffs == 4 * 2 * laps


def test_touch_only_counts_every_turn(artifacts, cpus):
    where = "unpinned" if placement.affinity_refused() else "same-core"
    case = _c_case("c.touch.test", "touch", where, ring_size=3, working_set=4096)
    laps = 40
    body = runner_for(case, artifacts)
    try:
        out = body.ffi.new("struct sb_result *")
        assert body._call(laps, out) == 0, body.ffi.string(out.message)
        assert out.handoffs == out.expected_handoffs == laps * 3
        assert out.touched > 0
        assert out.elapsed_ns > 0
        run = body(laps)
    finally:
        body.close()
    run.check()
    assert run.ops == laps


def test_touch_only_refuses_a_working_set_below_a_cache_line(artifacts):
    case = _c_case("c.touch.bad", "touch", "unpinned", ring_size=2, working_set=8)
    body = runner_for(case, artifacts)
    out = body.ffi.new("struct sb_result *")
    assert body._call(10, out) == errno.EINVAL
    assert out.error == errno.EINVAL
    assert b"64" in body.ffi.string(out.message)
    with pytest.raises(NativeError, match="working sets"):
        body(10)
