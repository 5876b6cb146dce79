"""The memory budget bounds what the memory step measures, on a faked host: no child
process is started, each measurement is answered by a fake that records what it ran."""

from types import SimpleNamespace

import pytest

from bench.catalogue import profiles
from bench.errors import UsageError
from bench.measure import memory, steps

MIB = 1 << 20
GOROUTINE_RSS = 4096  # bytes per parked goroutine, as the fake reports it
THREAD_RSS = 64 << 10  # bytes per parked thread


@pytest.fixture
def children(monkeypatch):
    """The argv of every measuring child, each answered with fixed per-unit costs."""
    ran = []

    def child(argv, limit):
        ran.append(argv)
        if argv[-1] == "stack":
            return {"stack_bytes": 8 * MIB, "guard_bytes": 4096, "error": "", "message": ""}
        n = int(argv[-1])
        per = GOROUTINE_RSS if "-park" in argv else THREAD_RSS
        m = dict.fromkeys(("rss_before", "vm_before", "stack_inuse_before", "sys_before"), 0)
        m.update(created=n, rss_after=n * per, vm_after=n * per, create_ns=n * 1000)
        m.update(stack_inuse_after=n * 2048, sys_after=n * per, error="", message="")
        return m

    monkeypatch.setattr(memory, "_child", child)
    monkeypatch.setattr(memory, "_limit_allowed", lambda limit: None)
    return ran


ARTIFACTS = SimpleNamespace(go_driver="go-driver", c_library="libsb.so")


def test_the_budget_is_a_quarter_of_available_memory(monkeypatch):
    monkeypatch.delenv("SWITCHBENCH_MEMORY_BUDGET_MB", raising=False)
    monkeypatch.setattr(memory, "available_bytes", lambda: 8192 * MIB)
    assert steps.memory_budget() == 2048 * MIB
    monkeypatch.setenv("SWITCHBENCH_MEMORY_BUDGET_MB", "")  # set but empty: as unset
    assert steps.memory_budget() == 2048 * MIB


def test_the_variable_overrides_the_host(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 8192 * MIB)
    monkeypatch.setenv("SWITCHBENCH_MEMORY_BUDGET_MB", "64")
    assert steps.memory_budget() == 64 * MIB


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1.5", "64MiB", " "])
def test_a_bad_budget_is_a_one_line_usage_error(monkeypatch, value):
    monkeypatch.setattr(memory, "available_bytes", lambda: 8192 * MIB)
    monkeypatch.setenv("SWITCHBENCH_MEMORY_BUDGET_MB", value)
    with pytest.raises(UsageError) as raised:
        steps.memory_budget()
    message = str(raised.value)
    assert "SWITCHBENCH_MEMORY_BUDGET_MB" in message and repr(value) in message
    assert "\n" not in message


PLAN = profiles.MemoryPlan(
    goroutines=(1000, 1_000_000), threads=(10, 100_000), limits=("8MiB",), growth=(8 << 10,)
)


def test_a_tiny_budget_skips_the_big_counts_with_a_reason(children):
    rows, stacks = memory.measure(PLAN, ARTIFACTS, budget=64 * MIB)
    status = {(r.kind, r.requested): (r.status, r.reason) for r in rows.itertuples()}
    # 1000 goroutines at the 16 KiB bound and 10 threads at 256 KiB fit in 64 MiB;
    # the next sizes, at twice what the smaller ones measured, do not.
    assert status[("goroutine", 1000)] == ("ok", "")
    assert status[("thread", 10)][0] == "ok"
    skipped = "could exceed the memory budget of 64 MiB"
    assert status[("goroutine", 1_000_000)] == ("skipped", skipped)
    assert status[("thread", 100_000)] == ("skipped", skipped)
    # ... and what was skipped was never started.
    assert sorted(argv[-1] for argv in children) == sorted(["1000", "stack", "10"])
    assert list(stacks["status"]) == ["ok"]


def test_a_large_budget_measures_every_size(children):
    rows, _ = memory.measure(PLAN, ARTIFACTS, budget=1 << 40)
    assert (rows["status"] == "ok").all(), rows["reason"].tolist()
    assert sorted(rows["requested"]) == [10, 1000, 100_000, 1_000_000]
    assert (rows["created"] == rows["requested"]).all()
    go = rows[rows["kind"] == "goroutine"].iloc[0]
    assert go["rss_bytes_per_unit"] == GOROUTINE_RSS


def test_the_first_size_is_checked_against_the_generous_bound(children):
    # 1000 goroutines at 16 KiB each need about 15.6 MiB: refused by 15 MiB, run by 16.
    plan = profiles.MemoryPlan(goroutines=(1000,), threads=(), limits=())
    rows, _ = memory.measure(plan, ARTIFACTS, budget=15 * MIB)
    assert list(rows["status"]) == ["skipped"] and children == []
    rows, _ = memory.measure(plan, ARTIFACTS, budget=16 * MIB)
    assert list(rows["status"]) == ["ok"] and len(children) == 1


def test_stack_growth_over_the_budget_is_skipped(monkeypatch):
    monkeypatch.setattr(
        memory.subprocess, "run", lambda *a, **k: pytest.fail("a skipped size was run")
    )
    plan = profiles.MemoryPlan(goroutines=(), threads=(), limits=(), growth=(1 * MIB,))
    growth = memory.measure_growth(plan, ARTIFACTS, budget=3 * MIB)
    assert list(growth["status"]) == ["skipped", "skipped"]
    assert (growth["reason"] == "over the memory budget").all()


def test_the_ceiling_search_stops_at_the_budget_or_the_free_pids(children, monkeypatch):
    monkeypatch.setattr(memory, "free_pids", lambda: 100)
    plan = profiles.MemoryPlan(goroutines=(1000,), threads=(10,), limits=("8MiB",), ceiling=True)
    rows, _ = memory.measure(plan, ARTIFACTS, budget=64 * MIB)
    ceiling = rows[rows["reason"].str.startswith("ceiling search: ")].set_index("kind")
    # Goroutines: half the budget over what one measured.
    assert ceiling.loc["goroutine", "requested"] == 64 * MIB // (2 * GOROUTINE_RSS)
    assert ceiling.loc["goroutine", "reason"] == (
        "ceiling search: stopped at the memory budget (64 MiB)"
    )
    # Threads: the budget would allow 64 MiB / (2 * (64 KiB + 16 KiB)) = 409 of them,
    # but 90% of the 100 free PIDs is fewer.
    assert ceiling.loc["thread", "requested"] == 90
    assert "90% of the free PIDs" in ceiling.loc["thread", "reason"]
    assert (ceiling["status"] == "ok").all()
    monkeypatch.setattr(memory, "free_pids", lambda: 10_000)
    rows, _ = memory.measure(plan, ARTIFACTS, budget=64 * MIB)
    thread = rows[rows["reason"].str.startswith("ceiling search: ") & (rows["kind"] == "thread")]
    assert list(thread["requested"]) == [64 * MIB // (2 * (THREAD_RSS + 16 * 1024))]


def test_a_creation_failure_is_the_ceiling_with_its_reason(children, monkeypatch):
    monkeypatch.setattr(memory, "free_pids", lambda: 10_000)
    fake = memory._child

    def failing(argv, limit):
        m = fake(argv, limit)
        if argv[-1] not in ("stack", "10", "1000"):
            m.update(created=7, error="EAGAIN", message="pthread_create: EAGAIN")
        return m

    monkeypatch.setattr(memory, "_child", failing)
    plan = profiles.MemoryPlan(goroutines=(1000,), threads=(10,), limits=("8MiB",), ceiling=True)
    rows, _ = memory.measure(plan, ARTIFACTS, budget=64 * MIB)
    ceiling = rows[rows["reason"].str.startswith("ceiling search: ")].set_index("kind")
    assert (ceiling["status"] == "ceiling").all()
    assert (ceiling["reason"] == "ceiling search: pthread_create: EAGAIN").all()
    assert (ceiling["created"] == 7).all()
