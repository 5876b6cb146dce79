"""A C or Go body and an op count → one accounted run: where its time went (Accounts).

The accounted run goes through the same native code as a timed run (sb_ring for C, the
driver's serve loop for Go) with the accounting switched on: for C, sb_ring_accounted
(c/account.c) reads each benchmark thread's getrusage(RUSAGE_THREAD) and
/proc/thread-self/schedstat over its timed region, and the CPUs' /proc/stat around the
gate, and every other task's schedstat on the machine; for Go, the driver's "N account"
request (go/cmd/switchdriver/account.go) reads every thread's schedstat,
getrusage(RUSAGE_SELF), the /proc/stat of every CPU of its affinity and every other
task's schedstat around the region. A source that could not be read is None, with why.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from bench.native.bridge import (
    CBody,
    GoBody,
    NativeError,
    TimedRun,
    timed_run_from_result,
    timed_run_from_sample,
)

# The /proc/stat fields sb_account.cpu_ticks and the driver's cpu_ticks hold, in order.
CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
MAX_CPUS = 256  # sb_account.cpus


@dataclass(frozen=True)
class Accounts:
    """What one accounted run measured, in ns (ticks turned into ns with USER_HZ)."""

    cpus: tuple[int, ...]  # the CPUs whose /proc/stat lines were read
    threads: int  # benchmark threads (or processes) accounted
    region_ns: int  # wall time between the two /proc/stat reads
    user_ns: int | None  # getrusage ru_utime over the threads
    kernel_ns: int | None  # getrusage ru_stime
    oncpu_ns: int | None  # schedstat: time on a CPU
    runq_wait_ns: int | None  # schedstat: time runnable, waiting on a run queue
    timeslices: int | None  # schedstat: timeslices run
    cpu_ns: dict[str, int] | None  # per CPU_FIELDS, summed over the CPUs
    rusage_source: str  # which getrusage, in words
    # Every other task's time on a CPU over the region (schedstat of every task of the
    # machine but the benchmark's), in ns; None where it could not be read.
    others_oncpu_ns: int | None = None
    others_tasks: int = 0  # tasks in that sum
    online_cpus: int = 0  # the machine's CPUs: the sum covers them all
    threads_born: int = 0  # Go: threads there only at the end (counted from 0)
    threads_gone: int = 0  # Go: threads there only at the start (their time is short)
    unavailable: dict[str, str] = field(default_factory=dict)  # source → why


def user_hz() -> int:
    """The unit of /proc/stat: ticks per second (USER_HZ)."""
    return os.sysconf("SC_CLK_TCK")


def _ticks_ns(ticks: list[int] | tuple[int, ...], hz: int) -> dict[str, int]:
    return {name: int(ticks[i]) * 1_000_000_000 // hz for i, name in enumerate(CPU_FIELDS)}


def _why(err: int | str) -> str:
    if isinstance(err, str):
        return err
    return f"{os.strerror(err)} (errno {err})" if err else ""


def accounted_c(body: CBody, ops: int, cpus: list[int]) -> tuple[TimedRun, Accounts]:
    """One accounted run of a C ring case on these CPUs' /proc/stat; NativeError when the
    case is not a two-CPU ring (sb_ring_spread and the single-thread entries are not
    accounted) or the run fails."""
    case = body.case
    if case.c_entry != "ring" or case.placement == "spread":
        raise NativeError(f"{case.id}: only rings on two CPUs are accounted")
    if not 1 <= len(cpus) <= MAX_CPUS:
        raise NativeError(f"{case.id}: between 1 and {MAX_CPUS} CPUs are read, not {len(cpus)}")
    ffi, lib = body.ffi, body.lib
    account = ffi.new("struct sb_account *")
    account.ncpus = len(cpus)
    for i, cpu in enumerate(cpus):
        account.cpus[i] = cpu
    out = ffi.new("struct sb_result *")
    lib.sb_set_perf_counting(0)
    rings, size = (case.pairs, 2) if case.pairs > 1 else (1, case.ring_size)
    primitive = case.c_primitive.encode()
    processes = int(case.processes)
    if lib.sb_ring_accounted(
        primitive, rings, size, ops, case.working_set, processes, body.cpu_a, body.cpu_b, out,
        account,
    ):  # fmt: skip
        raise NativeError(ffi.string(out.message).decode(errors="replace"))
    run = timed_run_from_result(ops, out)
    unavailable = {
        name: _why(err)
        for name, err in (
            ("getrusage", account.rusage_error),
            ("schedstat", account.schedstat_error),
            ("/proc/stat", account.stat_error),
            ("other tasks' schedstat", account.others_error),
        )
        if err
    }
    hz = int(account.user_hz) or user_hz()
    return run, Accounts(
        cpus=tuple(cpus),
        threads=int(account.threads),
        region_ns=int(account.region_ns),
        user_ns=None if account.rusage_error else int(account.user_ns),
        kernel_ns=None if account.rusage_error else int(account.kernel_ns),
        oncpu_ns=None if account.schedstat_error else int(account.oncpu_ns),
        runq_wait_ns=None if account.schedstat_error else int(account.runq_wait_ns),
        timeslices=None if account.schedstat_error else int(account.timeslices),
        cpu_ns=None if account.stat_error else _ticks_ns(list(account.cpu_ticks), hz),
        rusage_source="getrusage(RUSAGE_THREAD) in each benchmark thread"
        + (" and process" if case.processes else ""),
        others_oncpu_ns=None if account.others_error else int(account.others_oncpu_ns),
        others_tasks=int(account.others_tasks),
        online_cpus=int(account.online_cpus),
        unavailable=unavailable,
    )


def accounted_go(body: GoBody, ops: int) -> tuple[TimedRun, Accounts]:
    """One accounted run of a Go body through its driver ("N account")."""
    proc = body.proc
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{ops} account\n")
    proc.stdin.flush()
    line = proc.stdout.readline()
    if not line:
        raise NativeError(f"the Go driver exited with status {proc.wait()}")
    sample = json.loads(line)
    if sample.get("error"):
        raise NativeError(f"Go driver: {sample['error']}")
    a = sample.get("account")
    if not isinstance(a, dict):
        raise NativeError("the Go driver answered an accounted run without its account")
    run = timed_run_from_sample(sample)
    unavailable = {
        name: str(a[key])
        for name, key in (
            ("getrusage", "rusage_error"),
            ("schedstat", "schedstat_error"),
            ("/proc/stat", "stat_error"),
            ("other tasks' schedstat", "others_error"),
        )
        if a.get(key)
    }
    if a.get("threads_gone"):
        # A thread that exited inside the region took its schedstat with it.
        unavailable.setdefault("schedstat", f"{a['threads_gone']} thread(s) exited in the region")
    rusage_ok, sched_ok = "getrusage" not in unavailable, "schedstat" not in unavailable
    return run, Accounts(
        cpus=tuple(int(c) for c in a.get("cpus") or ()),
        threads=int(a["threads"]),
        region_ns=int(a["region_ns"]),
        user_ns=int(a["user_ns"]) if rusage_ok else None,
        kernel_ns=int(a["kernel_ns"]) if rusage_ok else None,
        oncpu_ns=int(a["oncpu_ns"]) if sched_ok else None,
        runq_wait_ns=int(a["runq_wait_ns"]) if sched_ok else None,
        timeslices=int(a["timeslices"]) if sched_ok else None,
        cpu_ns=None if "/proc/stat" in unavailable else _ticks_ns(a["cpu_ticks"], user_hz()),
        rusage_source="getrusage(RUSAGE_SELF): the whole driver process",
        others_oncpu_ns=None
        if "other tasks' schedstat" in unavailable
        else int(a.get("others_oncpu_ns", 0)),
        others_tasks=int(a.get("others_tasks", 0)),
        online_cpus=int(a.get("online_cpus", 0)),
        threads_born=int(a.get("threads_born", 0)),
        threads_gone=int(a.get("threads_gone", 0)),
        unavailable=unavailable,
    )
