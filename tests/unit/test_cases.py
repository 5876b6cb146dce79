import math

import pytest

from bench.catalogue import cases, expect, placement
from bench.errors import UsageError


def test_catalogue_has_every_case_of_the_issues():
    ids = [c.id for c in cases.all_cases()]
    wanted = [
        "go.gosched.p1",
        "c.yield.same-core",
        "c.ucontext",
        "c.fcontext",
        "c.spawn",
        "c.syscall.getppid",
        "c.clock.monotonic",
    ]
    for family in ("chan", "chanbuf1", "cond", "chan.locked", "spawn"):
        wanted += [f"go.{family}.{p}" for p in ("p1", "p2", "pN")]
    for family in (
        "condvar",
        "condvar.signal-unlocked",
        "futex",
        "sem",
        "eventfd",
        "pipe.threads",
        "pipe.procs",
    ):
        wanted += [f"c.{family}.{p}" for p in ("same-core", "cross-core", "unpinned")]
    wanted += [f"go.chan.pairs{2**i}.pN" for i in range(11)]
    wanted += [f"c.condvar.pairs{2**i}.spread" for i in range(9)]
    # issue 17's placement rungs, on c.futex only
    wanted += [f"c.futex.{p}" for p in ("smt-sibling", "same-llc", "other-llc")]
    for ws in ("0k", "16k", "64k", "256k"):
        wanted += [f"go.chan.ring8-ws{ws}.p1", f"c.condvar.ring8-ws{ws}.same-core"]
        if ws != "0k":
            wanted += [f"go.touch.ring8-ws{ws}.p1", f"c.touch.ring8-ws{ws}.same-core"]
    assert sorted(ids) == sorted(wanted)
    assert len(ids) == len(set(ids)), "case ids must be unique"


def test_every_case_is_well_formed():
    for case in cases.all_cases():
        assert case.id == case.family or case.id.startswith(f"{case.family}.")
        assert case.id.endswith(case.placement)
        assert bool(case.go_body) == (case.lang == "go")
        assert bool(case.c_entry) == (case.lang == "c")
        assert case.unit in ("switch", "goroutine", "thread", "call", "turn")
        assert case.sweep in ("", "pairs", "ring", "touch")
        assert case.switches_per_op >= 1
        low, high = case.expected_os_ctx_range
        assert low <= case.expected_os_ctx_switches_per_switch <= high
        assert (case.gomaxprocs is not None) == (case.lang == "go")


def test_select_globs_and_lists():
    assert [c.id for c in cases.select("c.futex.*")] == [
        "c.futex.same-core",
        "c.futex.cross-core",
        "c.futex.unpinned",
        "c.futex.smt-sibling",
        "c.futex.same-llc",
        "c.futex.other-llc",
    ]
    assert [c.id for c in cases.select("go.chan.p1, c.condvar.same-core")] == [
        "go.chan.p1",
        "c.condvar.same-core",
    ]
    assert len(cases.select(None)) == len(cases.all_cases())


@pytest.mark.parametrize("pattern", ["nope.*", "go.chan.p1,zzz", " , "])
def test_select_rejects_patterns_that_match_nothing(pattern):
    with pytest.raises(UsageError):
        cases.select(pattern)


def test_cross_core_needs_two_cpus(monkeypatch):
    # The host faked: this machine's own affinity must not decide the test.
    monkeypatch.setattr(placement, "affinity_refused", lambda: None)
    cross = cases.get_case("c.condvar.cross-core")
    assert "needs 2 CPUs" in placement.skip_reason(cross, [0])
    assert placement.skip_reason(cross, [0, 1]) is None
    assert placement.skip_reason(cases.get_case("c.condvar.same-core"), [3]) is None


def test_a_host_that_refuses_affinity_skips_pinned_c_cases_only(monkeypatch):
    monkeypatch.setattr(placement, "affinity_refused", lambda: "sched_setaffinity: EPERM")
    why = placement.skip_reason(cases.get_case("c.condvar.same-core"), [0, 1])
    assert why is not None and "refuses CPU affinity (sched_setaffinity: EPERM)" in why
    assert placement.skip_reason(cases.get_case("c.condvar.unpinned"), [0, 1]) is None
    assert placement.skip_reason(cases.get_case("go.chan.p1"), [0, 1]) is None


def test_pinning():
    assert placement.pin_cpus("same-core", [2, 5]) == (2, 2)
    a, b = placement.pin_cpus("cross-core", [2, 5])
    assert a == 2 and b == 5
    assert placement.pin_cpus("unpinned", [0]) == (-1, -1)
    # spread pins each pair itself (bench.native.bridge), over every usable CPU
    assert placement.pin_cpus("spread", [0, 1]) == (-1, -1)


def test_every_ring_working_set_has_its_touch_only_twin():
    """The working-set table subtracts the same touching without a switch: every ring
    with a working set has a touch case of the same language, size and buffers."""
    rings = [c for c in cases.all_cases() if c.sweep == "ring" and c.working_set]
    touches = {
        (c.lang, c.working_set, c.ring_size) for c in cases.all_cases() if c.sweep == "touch"
    }
    assert rings
    for ring in rings:
        assert (ring.lang, ring.working_set, ring.ring_size) in touches, ring.id


def test_the_two_condvar_hand_offs_expect_what_their_mechanism_gives():
    under = cases.get_case("c.condvar.same-core").expect
    after = cases.get_case("c.condvar.signal-unlocked.same-core").expect
    assert under.value == 2 and after.value == 1
    assert after.high <= under.low  # the ranges meet at most at one bound


def test_profiles_leave_sweeps_to_default():
    from bench.catalogue.profiles import PROFILES

    sweep = cases.get_case("go.chan.pairs64.pN")
    core = cases.get_case("go.chan.p1")
    assert PROFILES["default"].includes(sweep) and PROFILES["default"].includes(core)
    assert not PROFILES["quick"].includes(sweep) and PROFILES["quick"].includes(core)
    assert PROFILES["default"].sampling(sweep) != PROFILES["default"].sampling(core)


def test_expectations_split_user_space_from_kernel_switches():
    for case in cases.all_cases():
        kernel = (case.lang == "c" and case.c_entry in ("ring", "spawn")) or (
            case.go_body == "chan.locked"
        )
        low, high = case.expected_os_ctx_range
        assert (low >= 0.5) == kernel, case.id
        # Two-sided: a case making far more OS switches than its mechanism is flagged too.
        assert math.isfinite(high), case.id
        if kernel:  # no mechanism here makes more than 3 per switch
            assert high <= 3.5, case.id
        else:
            assert case.expected_os_ctx_switches_per_switch == 0 and high <= 0.1, case.id


@pytest.mark.parametrize(
    ("pattern", "expected", "low", "high"),
    [
        ("go.chan.p1", 0, 0, 0.01),
        ("go.*.p2", 0, 0, 0.1),
        ("c.ucontext", 0, 0, 0.01),
        ("c.syscall.getppid", 0, 0, 0.01),
        ("c.clock.monotonic", 0, 0, 0.01),
        ("c.futex.*", 1, None, 1.5),
        ("c.sem.*", 1, None, 1.5),
        ("c.eventfd.*", 1, None, 1.5),
        ("c.pipe.*", 1, None, 1.5),
        ("c.condvar.cross-core", 1, 0.5, 1.5),
        ("c.condvar.same-core", 2, 1.5, None),
        ("c.condvar.ring8-*", 2, 1.5, None),
        ("go.chan.locked.p1", 2, 1.5, 3.5),
        ("go.chan.locked.p2", 3, 2.5, 3.5),
        ("go.chan.locked.pN", 3, 2.5, 3.5),
    ],
)
def test_each_mechanism_expects_its_own_count(pattern, expected, low, high):
    for case in cases.select(pattern):
        if case.id.startswith("go.chan.locked.") and not pattern.startswith("go.chan.locked"):
            continue
        assert case.expected_os_ctx_switches_per_switch == expected, case.id
        got_low, got_high = case.expected_os_ctx_range
        assert low is None or got_low == low, case.id
        assert high is None or got_high == high, case.id
        # On one CPU the side handing on is switched out at every hand-off: never fewer.
        if case.placement == "same-core" and case.primitive != "condvar":
            assert got_low >= 0.95, case.id


def test_list_v_says_what_each_case_expects_and_why():
    for case in cases.all_cases():
        low, high = case.expected_os_ctx_range
        assert case.description.startswith(case.what + "; expects ")
        assert f"({expect.range_text(low, high)}): {case.expect.why}" in case.description
        assert case.expect.why and "\n" not in case.description
