"""The native bodies, called directly at small loop counts."""

import subprocess

import pytest

from bench import cases
from bench.native import NativeError, TimedRun, runner_for


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
    if cases.skip_reason(case, cpus):
        pytest.skip(cases.skip_reason(case, cpus))
    for n in (1, 3, 40):
        run = run_case(case_id, artifacts, n)
        assert run.ops == n
        # Both sides of every hand-off counted it, in turn: none lost, none twice.
        assert run.handoffs == run.expected_handoffs == n * case.switches_per_op
        assert run.order_errors == 0
        run.check()
        assert run.elapsed_ns > 0
        assert run.voluntary_ctx >= 0 and run.involuntary_ctx >= 0


def test_check_catches_a_broken_handoff():
    good = TimedRun(10, 1000, 10, 10, 0, 0, 0)
    good.check()
    for bad in (
        TimedRun(10, 1000, 10, 9, 0, 0, 0),
        TimedRun(10, 1000, 10, 10, 1, 0, 0),
        TimedRun(10, 0, 10, 10, 0, 0, 0),
    ):
        with pytest.raises(NativeError):
            bad.check()


def test_c_checks(artifacts, cpus):
    """c/check_handoffs: the C library's own checks, every primitive and placement."""
    second = cpus[1] if len(cpus) > 1 else cpus[0]
    done = subprocess.run(
        [str(artifacts.c_check), str(cpus[0]), str(second)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(" 0 failed")


def test_pinning_to_a_missing_cpu_is_an_error_not_a_crash(artifacts):
    from bench.native import CBody

    body = CBody(cases.get_case("c.condvar.same-core"), artifacts.c_library)
    body.cpu_a = body.cpu_b = 1 << 20
    with pytest.raises(NativeError, match="pinning"):
        body(10)


def test_go_driver_rejects_bad_input(artifacts):
    done = subprocess.run(
        [str(artifacts.go_driver), "-body", "nope"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "unknown -body" in done.stderr


def test_goroutine_switch_on_one_p_stays_out_of_the_kernel(artifacts, cpus):
    """The relation the suite exists to show, at a small loop count: a goroutine hand-off
    on one P causes far fewer OS context switches than a thread hand-off on one CPU."""
    go = run_case("go.chan.p1", artifacts, 20_000)
    c = run_case("c.condvar.same-core", artifacts, 2_000)
    assert ctx_per_switch(c) >= 0.5, "each thread hand-off must go through the scheduler"
    assert ctx_per_switch(go) * 10 < ctx_per_switch(c)


def test_goroutine_switch_is_cheaper_than_a_same_core_thread_switch(artifacts):
    # Best of a few runs each, so one noisy moment on a shared machine cannot decide it.
    go = min(run_case("go.chan.p1", artifacts, 20_000).elapsed_ns / 40_000 for _ in range(3))
    c = min(run_case("c.condvar.same-core", artifacts, 2_000).elapsed_ns / 4_000 for _ in range(3))
    assert go < c


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
