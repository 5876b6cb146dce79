"""A case → a callable body of native code (cffi for C, the driver process for Go) and its TimedRun.

The bridge to the native benchmark code, used inside pyperf workers.

C is called in-process through cffi (ABI mode on the built shared
library). Go runs in a driver process that stays up for the whole worker
and answers one JSON line per timed run. Both return a `TimedRun`, so the
rest of the suite cannot tell them apart.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import time
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

from bench.catalogue.cases import Case
from bench.catalogue.placement import pin_cpus, skip_reason, usable_cpus
from bench.native.build import Artifacts, source_root

# The perf counters both sides read, in the order of sb_result.counter
# (c/switchbench.h) and perfcount.Names (go/perfcount).
COUNTER_NAMES = (
    "context_switches",
    "cpu_migrations",
    "task_clock_ns",
    "page_faults",
    "cycles",
    "instructions",
    "branch_misses",
    "cache_misses",
)
HARDWARE_COUNTERS = COUNTER_NAMES[4:]


class NativeError(RuntimeError):
    """A benchmark body failed or reported a broken hand-off."""


@dataclass(frozen=True)
class TimedRun:
    """One timed run: the loop's wall time, the hand-offs counted and the OS switches."""

    ops: int
    elapsed_ns: int
    handoffs: int
    expected_handoffs: int
    order_errors: int
    voluntary_ctx: int
    involuntary_ctx: int
    # perf counter deltas in COUNTER_NAMES order; None where unavailable,
    # and then the reason in counter_errors.
    counters: tuple[int | None, ...] = (None,) * len(COUNTER_NAMES)
    counter_errors: tuple[str, ...] = ("not read",) * len(COUNTER_NAMES)
    # The process's CPU time (CLOCK_PROCESS_CPUTIME_ID) over the run and the wall time
    # of that same bracket, in ns; None where not measured. Their ratio is the run's CPU
    # share, a per-value measure of CPU contention (steal, another task on the CPU).
    cpu_ns: int | None = None
    wall_ns: int | None = None

    @property
    def cpu_share(self) -> float | None:
        """cpu_ns / wall_ns, or None where either was not measured."""
        if self.cpu_ns is None or self.wall_ns is None or self.wall_ns <= 0:
            return None
        return self.cpu_ns / self.wall_ns

    def check(self) -> None:
        if (
            self.expected_handoffs < 1
            or self.handoffs != self.expected_handoffs
            or self.order_errors
        ):
            raise NativeError(
                f"broken hand-off: {self.handoffs} of {self.expected_handoffs} hand-offs "
                f"for {self.ops} ops, {self.order_errors} out of turn"
            )
        if self.elapsed_ns <= 0:
            raise NativeError(f"the timed loop reported {self.elapsed_ns} ns")


def timed_run_from_result(ops: int, out: object) -> TimedRun:
    """A C run's TimedRun from its struct sb_result (a counter that was not read is None,
    with why)."""
    r: Any = out
    n = len(COUNTER_NAMES)
    return TimedRun(
        ops=ops,
        elapsed_ns=r.elapsed_ns,
        handoffs=r.handoffs,
        expected_handoffs=r.expected_handoffs,
        order_errors=r.order_errors,
        voluntary_ctx=r.voluntary_ctx,
        involuntary_ctx=r.involuntary_ctx,
        counters=tuple(None if r.counter_error[i] else r.counter[i] for i in range(n)),
        counter_errors=tuple(_errno_text(r.counter_error[i]) for i in range(n)),
    )


def timed_run_from_sample(sample: dict[str, Any]) -> TimedRun:
    """A Go run's TimedRun from the driver's JSON line, which names TimedRun's fields
    (its counters come as lists). cpu_ns and wall_ns are optional: drivers built before
    them leave them out, and then they are not measured (None)."""
    optional = {"cpu_ns", "wall_ns"}
    given = {
        f.name: sample.get(f.name) if f.name in optional else sample[f.name]
        for f in fields(TimedRun)
    }
    given["counters"] = tuple(given["counters"])
    given["counter_errors"] = tuple(given["counter_errors"])
    return TimedRun(**given)


def _errno_text(err: int) -> str:
    if not err:
        return ""
    if err == errno.ECANCELED:
        return "not counted in this run"
    name = errno.errorcode.get(err, str(err))
    return f"perf_event_open: {name} ({os.strerror(err)})"


def _cdef_source() -> str:
    """switchbench.h without preprocessor lines: cffi's cdef takes plain declarations."""
    header = source_root() / "c" / "switchbench.h"
    return "\n".join(
        line for line in header.read_text().splitlines() if not line.lstrip().startswith("#")
    )


@cache
def _c_library(path: Path) -> tuple[object, object]:
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(_cdef_source())
    return ffi, ffi.dlopen(str(path))


class CBody:
    """A C benchmark, called in-process through cffi and pinned as its case says."""

    def __init__(self, case: Case, library: Path) -> None:
        self.case = case
        self.ffi, self.lib = _c_library(library)
        if case.placement == "spread":
            # Every usable CPU, each pair kept on one of them (sb_ring_spread):
            # no two-CPU placement to ask pin_cpus for.
            cpus = usable_cpus()
            self.cpu_a, self.cpu_b = -1, -1
            self.spread_cpus = self.ffi.new("int32_t[]", cpus)
            self.spread_count = len(cpus)
        else:
            self.cpu_a, self.cpu_b = pin_cpus(case.placement, usable_cpus())

    def _call(self, ops: int, out: object) -> int:
        case, lib = self.case, self.lib
        if case.c_entry == "ring" and case.placement == "spread":
            return lib.sb_ring_spread(
                case.c_primitive.encode(),
                case.pairs,
                2,
                ops,
                case.working_set,
                self.spread_cpus,
                self.spread_count,
                out,
            )
        if case.c_entry == "ring":
            rings, size = (case.pairs, 2) if case.pairs > 1 else (1, case.ring_size)
            return lib.sb_ring(
                case.c_primitive.encode(),
                rings,
                size,
                ops,
                case.working_set,
                int(case.processes),
                self.cpu_a,
                self.cpu_b,
                out,
            )
        if case.c_entry == "ucontext":
            return lib.sb_ucontext_pingpong(ops, out)
        if case.c_entry == "fcontext":
            return lib.sb_fcontext_pingpong(ops, out)
        if case.c_entry == "touch":
            # Pinned to the first usable CPU for same-core (pin_cpus), else unpinned.
            return lib.sb_touch_only(case.ring_size, ops, case.working_set, self.cpu_a, out)
        if case.c_entry == "spawn":
            return lib.sb_spawn_threads(ops, self.cpu_a, out)
        if case.c_entry == "baseline":
            return lib.sb_baseline(case.c_primitive.encode(), ops, out)
        raise ValueError(f"case {case.id} has unknown C entry {case.c_entry!r}")

    def __call__(self, ops: int, count_perf: bool = False) -> TimedRun:
        out = self.ffi.new("struct sb_result *")
        self.lib.sb_set_perf_counting(int(count_perf))
        # The CPU share's bracket: as close around the native call as Python gets, so that
        # it covers the case's threads (all in this process) and little else. The wall
        # clock is read outside the CPU clock, so that the wall bracket holds the CPU one.
        # The share can still pass 1 a little for a one-CPU case: the process's other
        # threads (the calling one, a thread before it is pinned) count too.
        wall_before = time.perf_counter_ns()
        cpu_before = time.clock_gettime_ns(time.CLOCK_PROCESS_CPUTIME_ID)
        status = self._call(ops, out)
        cpu_after = time.clock_gettime_ns(time.CLOCK_PROCESS_CPUTIME_ID)
        wall_after = time.perf_counter_ns()
        if status != 0:
            raise NativeError(self.ffi.string(out.message).decode(errors="replace"))
        return replace(
            timed_run_from_result(ops, out),
            cpu_ns=cpu_after - cpu_before,
            wall_ns=wall_after - wall_before,
        )

    def close(self) -> None:
        pass


class GoBody:
    """A Go body, run by a long-lived switchdriver process (one per pyperf worker)."""

    def __init__(self, case: Case, driver: Path) -> None:
        argv = [
            str(driver),
            "-body", case.go_body,
            "-gomaxprocs", str(case.gomaxprocs),
            "-pairs", str(case.pairs),
            "-ring-size", str(case.ring_size),
            "-working-set", str(case.working_set),
            "-serve",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def __call__(self, ops: int, count_perf: bool = False) -> TimedRun:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{ops} perf\n" if count_perf else f"{ops}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise NativeError(f"the Go driver exited with status {self.proc.wait()}")
        sample = json.loads(line)
        if sample.get("error"):
            raise NativeError(f"Go driver: {sample['error']}")
        return timed_run_from_sample(sample)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def runner_for(case: Case, artifacts: Artifacts) -> CBody | GoBody:
    """A callable running `ops` ops of the case and returning a TimedRun.

    Perf counters are read only when asked (count_perf=True): an active
    per-thread perf counter makes every context switch of that thread dearer,
    so timed runs go without them; getrusage's counts cost nothing and are
    always read.
    """
    if case.lang == "c":
        return CBody(case, artifacts.c_library)
    if case.lang == "go":
        return GoBody(case, artifacts.go_driver)
    raise ValueError(f"case {case.id} has unknown language {case.lang!r}")


def probe_counters(library: Path) -> dict[str, dict[str, object]]:
    """Which perf counters a thread of this process may open, and why not."""
    ffi, lib = _c_library(library)
    errors = ffi.new("int32_t[8]")
    lib.sb_counters_probe(errors)
    return {
        name: {"available": errors[i] == 0, "reason": _errno_text(errors[i])}
        for i, name in enumerate(COUNTER_NAMES)
    }


def fcontext_unavailable(library: Path) -> str | None:
    """Why the Boost.Context ping-pong cannot run here (with what to install);
    None when libboost_context.so loads."""
    ffi, lib = _c_library(library)
    why = ffi.new("char[256]")
    if lib.sb_fcontext_probe(why, len(why)) == 0:
        return None
    return ffi.string(why).decode(errors="replace")


def case_skip_reason(case: Case, cpus: list[int]) -> str | None:
    """Why a case cannot run here, or None: its placement (CPUs, affinity), or for
    c.fcontext Boost.Context, which the C library loads at run time so that it is no
    build dependency (a library not built yet is not this case's to report)."""
    why = skip_reason(case, cpus)
    if why or case.c_entry != "fcontext":
        return why
    library = Artifacts.locate().c_library
    return fcontext_unavailable(library) if library.is_file() else None


def measure_clock_ghz(library: Path, trials: int = 7) -> dict[str, object]:
    """The clock rate this process's thread runs at, timed on a chain of dependent
    additions (c/single.c). The fastest trial is kept: a slower one was preempted
    or ran before the clock ramped up. Used to turn ns into cycles where the
    machine has no cycles counter."""
    _, lib = _c_library(library)
    iterations = 2_000_000
    lib.sb_add_chain_ns(iterations)  # warm up: let the core leave any idle state
    best_ns = min(int(lib.sb_add_chain_ns(iterations)) for _ in range(trials))
    return {
        "ghz": 8 * iterations / best_ns if best_ns > 0 else None,
        "method": "a chain of dependent integer additions, 1 cycle each; fastest of "
        f"{trials} trials of {8 * iterations:,} additions",
    }
