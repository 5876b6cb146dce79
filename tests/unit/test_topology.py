"""The topology placements (bench.catalogue.topology) on faked sysfs trees: a pair where the
machine has one, a reason where it has none."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.catalogue import cases, placement
from bench.catalogue.topology import TOPOLOGY_PLACEMENTS, cpu_list, topology_pair


def fake_sysfs(root: Path, cores: list[list[int]], llcs: list[list[int]]) -> Path:
    """A sysfs cpu tree: each core's hardware threads, each last-level cache's CPUs (as
    index3, level 3, beside an L1 index0 private to each CPU, so the highest level wins)."""
    for core in cores:
        for cpu in core:
            llc = next(c for c in llcs if cpu in c)
            base = root / f"cpu{cpu}"
            (base / "topology").mkdir(parents=True)
            (base / "topology" / "thread_siblings_list").write_text(",".join(map(str, core)) + "\n")
            for index, level, shared in (("index0", 1, [cpu]), ("index3", 3, llc)):
                (base / "cache" / index).mkdir(parents=True)
                (base / "cache" / index / "level").write_text(f"{level}\n")
                (base / "cache" / index / "shared_cpu_list").write_text(
                    f"{min(shared)}-{max(shared)}\n"
                )
    return root


def test_cpu_list_reads_ranges_and_singles() -> None:
    assert cpu_list("0-3,8,10-11\n") == {0, 1, 2, 3, 8, 10, 11}
    assert cpu_list("5") == {5}


def test_smt_two_by_two(tmp_path: Path) -> None:
    # Two cores of two hardware threads each, one L3: CPUs 0,1 on core 0; 2,3 on core 1.
    root = fake_sysfs(tmp_path, [[0, 1], [2, 3]], [[0, 1, 2, 3]])
    cpus = [0, 1, 2, 3]
    assert topology_pair("smt-sibling", cpus, root) == (0, 1)
    assert topology_pair("same-llc", cpus, root) == (0, 2)
    why = topology_pair("other-llc", cpus, root)
    assert isinstance(why, str) and "shares one last-level cache" in why
    # With the siblings out of the affinity mask, no SMT pair is left.
    assert isinstance(topology_pair("smt-sibling", [0, 2], root), str)


def test_two_last_level_caches(tmp_path: Path) -> None:
    root = fake_sysfs(tmp_path, [[0], [1], [2], [3]], [[0, 1], [2, 3]])
    cpus = [0, 1, 2, 3]
    assert topology_pair("other-llc", cpus, root) == (0, 2)
    assert topology_pair("same-llc", cpus, root) == (0, 1)
    why = topology_pair("smt-sibling", cpus, root)
    assert isinstance(why, str) and "no SMT" in why and "4 cores, 2 L3 caches" in why


def test_this_vm_two_cores_one_cache(tmp_path: Path) -> None:
    root = fake_sysfs(tmp_path, [[0], [1]], [[0, 1]])
    assert topology_pair("same-llc", [0, 1], root) == (0, 1)
    for name in ("smt-sibling", "other-llc"):
        why = topology_pair(name, [0, 1], root)
        assert isinstance(why, str) and "2 cores, 1 L3 cache" in why


def test_unreadable_or_too_few_cpus(tmp_path: Path) -> None:
    assert "needs 2 CPUs" in str(topology_pair("same-llc", [0], tmp_path))
    assert "not readable" in str(topology_pair("same-llc", [0, 1], tmp_path / "none"))


def test_the_placement_cases_pin_or_skip_as_the_topology_says(tmp_path: Path) -> None:
    """skip_reason and pin_cpus agree with topology_pair on this machine: a case runs
    exactly when its pair exists, pinned to that pair."""
    cpus = placement.usable_cpus()
    for name in TOPOLOGY_PLACEMENTS:
        case = cases.get_case(f"c.futex.{name}")
        pair = topology_pair(name, cpus)
        if isinstance(pair, str):
            assert placement.skip_reason(case, cpus) == pair
            with pytest.raises(ValueError, match="cannot be pinned"):
                placement.pin_cpus(name, cpus)
        else:
            assert placement.skip_reason(case, cpus) is None
            assert placement.pin_cpus(name, cpus) == pair


def test_the_placement_cases_expect_what_the_cross_core_futex_does() -> None:
    cross = cases.get_case("c.futex.cross-core")
    for name in TOPOLOGY_PLACEMENTS:
        case = cases.get_case(f"c.futex.{name}")
        assert case.expect == cross.expect
        assert (case.c_entry, case.c_primitive, case.cpus_needed) == ("ring", "futex", 2)
        assert case.placement in placement.PINNED
