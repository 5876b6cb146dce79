"""The time split's arithmetic on synthetic numbers, its file's round trip and its section."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from bench.analysis.timesplit import derive, with_derived
from bench.errors import UsageError
from bench.native.bridge import COUNTER_NAMES
from bench.render import timesplit as render
from bench.results import read
from bench.results.schema import TIMESPLIT_COLUMNS, TIMESPLIT_CSV, TIMESPLIT_MEASURED
from bench.results.write import write_csv

pytestmark = pytest.mark.unit


def _row(**changes: object) -> dict[str, object]:
    """A measured row: 1000 switches over 1 ms on 2 CPUs (2,000 ns per switch of CPU time)."""
    row: dict[str, object] = {
        "case": "c.futex.cross-core",
        "lang": "c",
        "placement": "cross-core",
        "status": "ok",
        "reason": "",
        "cpu_view": "pinned",
        "cpus": "0 1",
        "ncpus": 2,
        "ops": 500,
        "switches": 1000,
        "ns_per_switch": 1000.0,
        "region_ns": 1_000_000,
        "threads": 2,
        "threads_born": 0,
        "rusage_source": "getrusage(RUSAGE_THREAD) in each benchmark thread",
        "user_hz": 100,
        "thread_user_ns": 100_000,
        "thread_kernel_ns": 300_000,
        "thread_oncpu_ns": 410_000,
        "runq_wait_ns": 50_000,
        "timeslices": 1000,
        "cpu_user_ns": 200_000,
        "cpu_nice_ns": 0,
        "cpu_system_ns": 400_000,
        "cpu_idle_ns": 1_200_000,
        "cpu_iowait_ns": 100_000,
        "cpu_irq_ns": 20_000,
        "cpu_softirq_ns": 30_000,
        "cpu_steal_ns": 10_000,
        "unavailable": "",
        "wall_s": 0.5,
    }
    row.update(changes)
    return row


def test_parts_per_switch() -> None:
    d = derive(_row())
    assert d["user_ns_per_switch"] == 100 and d["kernel_ns_per_switch"] == 300
    # other tasks: the CPUs' user + nice + system (600 µs) less the threads' 400 µs
    assert d["other_ns_per_switch"] == 200
    assert d["irq_ns_per_switch"] == 50 and d["idle_ns_per_switch"] == 1300
    assert d["steal_ns_per_switch"] == 10 and d["runq_wait_ns_per_switch"] == 50
    assert d["parts_ns_per_switch"] == 100 + 300 + 200 + 50 + 1300 + 10
    assert d["wall_cpus_ns_per_switch"] == 2000
    assert d["tick_ns_per_switch"] == 10_000  # 10 ms a tick over 1000 switches
    assert d["user_share"] == pytest.approx(0.25)
    assert d["oncpu_ratio"] == pytest.approx(410 / 400) and d["oncpu_agree"] == "yes"
    assert d["parts_ratio"] == pytest.approx(1960 / 2000) and d["parts_agree"] == "yes"


def test_sources_that_disagree_are_said_to() -> None:
    d = derive(_row(thread_oncpu_ns=500_000, cpu_idle_ns=600_000))
    assert d["oncpu_agree"] == "no" and d["parts_agree"] == "no"
    # other tasks may come out below 0: the threads' own accounts exceed the CPUs' busy time
    assert derive(_row(cpu_system_ns=100_000))["other_ns_per_switch"] == -100


@pytest.mark.parametrize(
    ("missing", "gone"),
    [
        ("thread_oncpu_ns", ("oncpu_ratio", "runq_wait_ns_per_switch")),
        ("thread_user_ns", ("user_ns_per_switch", "other_ns_per_switch", "user_share")),
        ("cpu_idle_ns", ("idle_ns_per_switch", "parts_ns_per_switch", "parts_ratio")),
    ],
)
def test_an_unavailable_source_is_unavailable_not_zero(missing: str, gone: tuple[str]) -> None:
    row = _row(**{missing: math.nan})
    if missing == "thread_oncpu_ns":
        row["runq_wait_ns"] = math.nan  # schedstat gives both or neither
    d = derive(row)
    for column in gone:
        assert math.isnan(d[column]), column  # type: ignore[arg-type]
    assert d["oncpu_agree" if missing != "cpu_idle_ns" else "parts_agree"] == ""
    frame = with_derived(pd.DataFrame([row]).reindex(columns=TIMESPLIT_MEASURED))
    text = "\n".join(render.section_lines(frame, {}))
    assert "unavailable" in text


def test_round_trip(tmp_path: Path) -> None:
    skipped = {"case": "c.x", "lang": "c", "status": "skipped", "reason": "needs 2 CPUs"}
    rows = [_row(), skipped]
    frame = with_derived(pd.DataFrame(rows).reindex(columns=TIMESPLIT_MEASURED))
    assert list(frame.columns) == TIMESPLIT_COLUMNS
    write_csv(frame, tmp_path / TIMESPLIT_CSV)
    back = read.load_timesplit(tmp_path)
    assert back is not None and list(back.columns) == TIMESPLIT_COLUMNS
    assert back.loc[0, "user_share"] == pytest.approx(frame.loc[0, "user_share"])
    assert back.loc[1, "reason"] == "needs 2 CPUs" and math.isnan(back.loc[1, "user_share"])
    assert read.load_timesplit(tmp_path / "nothing-here") is None


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    frame = with_derived(pd.DataFrame([_row()]).reindex(columns=TIMESPLIT_MEASURED))
    frame.loc[0, "idle_ns_per_switch"] = -5.0  # a share of time cannot be negative
    write_csv(frame, tmp_path / TIMESPLIT_CSV)
    with pytest.raises(UsageError, match="idle_ns_per_switch"):
        read.load_timesplit(tmp_path)


def test_section_escapes_and_names_what_was_not_split(tmp_path: Path) -> None:
    rows = [_row(case="c.a|b"), _row(case="c.skip", status="skipped", reason="no *CPU*")]
    frame = with_derived(pd.DataFrame(rows).reindex(columns=TIMESPLIT_MEASURED))
    text = "\n".join(render.section_lines(frame, {}))
    assert "c.a\\|b" in text and "no \\*CPU\\*" in text
    assert render.section_lines(None, {}) == []
    assert render.plot(frame, tmp_path) and (tmp_path / "timesplit.png").is_file()
    compared = render.compare_lines([("one", frame), ("two", None)], [])
    assert any("No time split in two" in line for line in compared)
    assert render.compare_lines([("two", None)], []) == []


def test_plans_pick_the_thread_and_process_cases() -> None:
    from bench.measure.timesplit import GO_CASES, cases_for

    headline = [c.id for c in cases_for("headline")]
    every = [c.id for c in cases_for("every")]
    assert set(headline) < set(every)
    for family in ("c.condvar", "c.futex", "c.pipe.threads", "c.pipe.procs"):
        for placement in ("same-core", "cross-core", "unpinned"):
            assert f"{family}.{placement}" in headline
    assert "c.yield.same-core" in headline and "c.sem.same-core" not in headline
    assert all(g in headline for g in GO_CASES) and headline[-len(GO_CASES) :] == list(GO_CASES)
    assert not any(i.endswith(".spread") for i in every)  # sb_ring_spread is not accounted
    with pytest.raises(ValueError, match="not one of"):
        cases_for("all")


class _Driver:
    """A Go driver's pipes, answering one line."""

    def __init__(self, answer: dict[str, object]) -> None:
        import io
        import json

        self.stdin = io.StringIO()
        self.stdout = io.StringIO(json.dumps(answer) + "\n")

    def wait(self) -> int:
        return 0


def _go_answer(**account: object) -> dict[str, object]:
    base = {"cpus": [0, 1], "threads": 4, "threads_born": 0, "threads_gone": 0}
    base |= {"user_ns": 9, "kernel_ns": 1, "oncpu_ns": 10, "runq_wait_ns": 0, "timeslices": 3}
    base |= {"rusage_error": "", "schedstat_error": "", "stat_error": "", "region_ns": 20}
    base |= {"cpu_ticks": [1, 0, 0, 1, 0, 0, 0, 0]}
    base |= account
    sample = {"ops": 5, "elapsed_ns": 19, "handoffs": 10, "expected_handoffs": 10}
    # Every line of the driver carries the perf counters (none read in an accounted run).
    sample |= {"counters": [None] * len(COUNTER_NAMES)}
    sample |= {"counter_errors": ["not counted in this run"] * len(COUNTER_NAMES)}
    return sample | {"order_errors": 0, "voluntary_ctx": 0, "involuntary_ctx": 0, "account": base}


def test_go_accounts_are_read_and_a_lost_thread_makes_schedstat_unavailable() -> None:
    from bench.native.accounting import accounted_go

    body = type("Body", (), {})()
    body.proc = _Driver(_go_answer())
    run, acc = accounted_go(body, 5)  # type: ignore[arg-type]
    assert body.proc.stdin.getvalue() == "5 account\n"
    assert run.ops == 5 and acc.cpus == (0, 1) and acc.oncpu_ns == 10 and acc.user_ns == 9
    assert acc.cpu_ns is not None and acc.cpu_ns["user"] > 0 and acc.cpu_ns["steal"] == 0

    body.proc = _Driver(_go_answer(threads_gone=1, stat_error="no /proc/stat"))
    _, acc = accounted_go(body, 5)  # type: ignore[arg-type]
    assert acc.oncpu_ns is None and acc.runq_wait_ns is None and acc.cpu_ns is None
    assert acc.user_ns == 9  # getrusage(RUSAGE_SELF) still holds the thread that left
    assert "exited" in acc.unavailable["schedstat"]
    assert acc.unavailable["/proc/stat"] == "no /proc/stat"


def test_other_work_is_every_other_tasks_schedstat_where_the_cpus_are_all_of_them() -> None:
    """On all of the machine's CPUs the other tasks' time is measured (schedstat, ns);
    on some of them the machine-wide sum would count other CPUs' work, so it is the
    CPUs' busy ticks less the threads' own."""
    all_cpus = derive(_row(others_oncpu_ns=150_000, others_tasks=80, online_cpus=2))
    assert all_cpus["other_source"] == "every other task's schedstat"
    assert all_cpus["other_ns_per_switch"] == pytest.approx(150.0)
    some_cpus = derive(_row(others_oncpu_ns=150_000, others_tasks=80, online_cpus=16))
    assert some_cpus["other_source"] == "the CPUs' /proc/stat less the threads' getrusage"
    # (200,000 + 0 + 400,000) - (100,000 + 300,000) ns over 1000 switches
    assert some_cpus["other_ns_per_switch"] == pytest.approx(200.0)
    unread = derive(_row(others_oncpu_ns=math.nan, online_cpus=2))
    assert unread["other_source"] == "the CPUs' /proc/stat less the threads' getrusage"
