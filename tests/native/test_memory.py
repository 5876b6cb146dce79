"""Memory per goroutine and per thread, at small sizes."""

import resource

import pytest

from bench.catalogue import profiles
from bench.measure import memory
from bench.results import schema


@pytest.fixture(scope="module")
def measured(artifacts):
    plan = profiles.MemoryPlan(goroutines=(2000,), threads=(50,), limits=("8MiB", "256KiB"))
    return memory.measure(plan, artifacts, budget=1 << 30)


def test_every_size_is_measured(measured):
    rows, stacks = measured
    assert list(rows.columns) == schema.MEMORY_COLUMNS
    assert list(stacks.columns) == schema.STACK_COLUMNS
    assert (rows["status"] == "ok").all(), rows["reason"].tolist()
    assert (rows["created"] == rows["requested"]).all()


def test_a_goroutine_stack_is_small_and_a_thread_reserves_its_stack(measured):
    rows, _ = measured
    go = rows[rows["kind"] == "goroutine"].iloc[0]
    assert go["rss_bytes_per_unit"] > 0 and go["stack_bytes_per_unit"] > 0
    threads = rows[rows["kind"] == "thread"].set_index("ulimit_s")
    for limit in ("8MiB", "256KiB"):
        # A parked thread holds at least its stack's address space; a goroutine's
        # whole resident cost is far below that.
        assert (
            threads.loc[limit, "virtual_bytes_per_unit"]
            >= threads.loc[limit, "stack_bytes_per_unit"]
        )
        assert threads.loc[limit, "virtual_bytes_per_unit"] > 10 * go["rss_bytes_per_unit"]


def test_thread_stack_follows_ulimit(measured):
    _, stacks = measured
    stacks = stacks.set_index("ulimit_s")
    if (
        resource.getrlimit(resource.RLIMIT_STACK)[1] != resource.RLIM_INFINITY
        and (stacks["status"] == "skipped").any()
    ):
        pytest.skip("the hard stack limit forbids a limit tried here")
    for limit in ("8MiB", "256KiB"):
        assert stacks.loc[limit, "thread_stack_bytes"] == pytest.approx(
            memory.LIMITS[limit], rel=0.1
        )


def test_sizes_over_the_budget_are_skipped_not_run(artifacts):
    plan = profiles.MemoryPlan(goroutines=(1_000_000,), threads=(10_000,), limits=("8MiB",))
    rows, _ = memory.measure(plan, artifacts, budget=1 << 20)
    assert (rows["status"] == "skipped").all()
    assert rows["reason"].str.contains("memory budget").all()


def test_stack_growth_and_the_max_stack_limit(artifacts):
    plan = profiles.MemoryPlan(goroutines=(), threads=(), limits=(), growth=(8 << 10, 256 << 10))
    growth = memory.measure_growth(plan, artifacts, budget=1 << 30).set_index("target_bytes")
    grown = growth[growth["status"] == "ok"]
    assert len(grown) == 2
    assert (grown["first_ns"] > 0).all() and (grown["second_ns"] > 0).all()
    # The runtime gave the goroutine at least the stack it needed.
    assert grown.loc[256 << 10, "stack_inuse_delta_bytes"] >= 128 << 10
    limited = growth[growth["status"] == "limit"]
    assert len(limited) == 1, growth
    assert "exceeds" in limited["reason"].iloc[0]
