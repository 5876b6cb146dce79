import pytest

from bench import cases
from bench.errors import UsageError


def test_catalogue_has_the_pipeline_cases():
    ids = [c.id for c in cases.all_cases()]
    for wanted in ("go.chan.p1", "go.chan.p2", "c.condvar.same-core", "c.condvar.cross-core"):
        assert wanted in ids
    assert len(ids) == len(set(ids)), "case ids must be unique"


def test_every_case_is_well_formed():
    for case in cases.all_cases():
        assert case.id.startswith(f"{case.lang}.{case.primitive}.")
        assert case.id.endswith(case.placement)
        assert case.switches_per_op >= 1
        low, high = case.expected_os_ctx_range
        assert low <= case.expected_os_ctx_switches_per_switch <= high
        assert (case.gomaxprocs is not None) == (case.lang == "go")


def test_select_globs_and_lists():
    assert [c.id for c in cases.select("c.condvar.*")] == [
        "c.condvar.same-core",
        "c.condvar.cross-core",
    ]
    assert [c.id for c in cases.select("go.chan.p1, c.*.same-core")] == [
        "go.chan.p1",
        "c.condvar.same-core",
    ]
    assert len(cases.select(None)) == len(cases.all_cases())


@pytest.mark.parametrize("pattern", ["nope.*", "go.chan.p1,zzz", " , "])
def test_select_rejects_patterns_that_match_nothing(pattern):
    with pytest.raises(UsageError):
        cases.select(pattern)


def test_cross_core_needs_two_cpus():
    cross = cases.get_case("c.condvar.cross-core")
    assert "needs 2 CPUs" in cases.skip_reason(cross, [0])
    assert cases.skip_reason(cross, [0, 1]) is None
    assert cases.skip_reason(cases.get_case("c.condvar.same-core"), [3]) is None


def test_pinning():
    assert cases.pin_cpus("same-core", [2, 5]) == (2, 2)
    a, b = cases.pin_cpus("cross-core", [2, 5])
    assert a == 2 and b == 5
    assert cases.pin_cpus("unpinned", [0]) == (-1, -1)
