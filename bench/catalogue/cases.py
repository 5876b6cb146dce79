"""The catalogue: every benchmark case the suite knows, as plain records → selected cases.

A case says what it runs (language, body, placement), what one op is and
how many switches it holds, and how many OS context switches one switch
should cost (bench.catalogue.expect), so the report can set the measurement beside the
expectation. The catalogue is one declarative table (_catalogue), longer than the
suite's other functions because it lists every case.
"""

from __future__ import annotations

import fnmatch
import math
import os
from dataclasses import dataclass
from typing import Any

from bench.catalogue.expect import (
    BLOCK_ONE_CPU,
    BLOCK_TWO_CPUS,
    BLOCK_UNPINNED,
    CONDVAR_ONE_CPU,
    CONDVAR_PAIRS_SPREAD,
    CONDVAR_TWO_CPUS,
    CONDVAR_UNLOCKED_ONE_CPU,
    CONDVAR_UNPINNED,
    GO_LOCKED_MORE_PS,
    GO_LOCKED_ONE_P,
    GO_MORE_PS,
    GO_ONE_P,
    GO_SPAWN_MORE_PS,
    GO_SPAWN_ONE_P,
    USER_SPACE_MAX,
    YIELD_ONE_CPU,
    Expect,
    range_text,
)
from bench.errors import UsageError


@dataclass(frozen=True)
class Case:
    id: str
    lang: str  # "go" or "c"
    primitive: str  # what hands off control: "chan", "condvar", "pipe", ...
    # "p1", "p2", "pN" (GOMAXPROCS) or "same-core", "cross-core", "unpinned", "spread"
    placement: str
    what: str  # what runs, in words
    op: str  # what one op (one pyperf loop) is
    switches_per_op: int  # units (switches, spawns, calls) in one op
    # OS context switches per unit: expected, the range outside which the report
    # flags the measurement, and why.
    expect: Expect
    unit: str = "switch"  # what the per-unit figures are per: switch, goroutine, thread, call
    cpus_needed: int = 1
    # How to run it: the Go driver's body, or the C entry point and its parameters.
    go_body: str = ""
    gomaxprocs: int | None = None  # Go only; 0 means every CPU
    c_entry: str = ""  # "ring", "ucontext", "fcontext", "touch", "spawn" or "baseline"
    c_primitive: str = ""  # the ring primitive, or the baseline call
    processes: bool = False  # ring sides as separate processes
    pairs: int = 1
    ring_size: int = 2
    working_set: int = 0
    # "pairs" or "ring" for the scaling sweeps, "touch" for the ring's touching without a
    # switch (what the working-set table subtracts), "" otherwise
    sweep: str = ""
    sweep_x: int = 0  # the swept value: pairs, or working-set bytes

    @property
    def family(self) -> str:
        return f"{self.lang}.{self.primitive}"

    @property
    def expected_os_ctx_switches_per_switch(self) -> float:
        return self.expect.value

    @property
    def expected_os_ctx_range(self) -> tuple[float, float]:
        return self.expect.low, self.expect.high

    @property
    def description(self) -> str:
        """What runs, and what it should cost in OS context switches, and why: one line,
        as `switchbench list -v` prints it and summary.csv keeps it."""
        e = self.expect
        return (
            f"{self.what}; expects {e.value:g} OS context "
            f"{'switch' if e.value == 1 else 'switches'} per {self.unit} "
            f"({range_text(e.low, e.high)}): {e.why}"
        )


# The headline pair (the report's answer, compare's table) and the case every ratio is to.
GOROUTINE_CASE = "go.chan.p1"
THREAD_CASE = "c.condvar.same-core"
BASELINE_CASE = GOROUTINE_CASE
SYSCALL_CASE = "c.syscall.getppid"  # the null system call
FLOOR_CASE = "c.fcontext"  # the user-space floor

_ROUND_TRIP = "one round trip (A hands control to B, B hands it back)"


GO_PLACEMENTS = {"p1": 1, "p2": 2, "pN": 0}
C_PLACEMENTS = ("same-core", "cross-core", "unpinned")
PAIRS_GO = tuple(2**i for i in range(11))  # 1 ... 1024
PAIRS_THREADS = tuple(2**i for i in range(9))  # 1 ... 256
RING_SIZE = 8
RING_WORKING_SETS = (0, 16 * 1024, 64 * 1024, 256 * 1024)


def _go_pingpong(primitive: str, body: str, what: str, placements: dict[str, int]) -> list[Case]:
    out = []
    for placement, procs in placements.items():
        shown = "every CPU" if procs == 0 else str(procs)
        out.append(
            Case(
                id=f"go.{primitive}.{placement}",
                lang="go",
                primitive=primitive,
                placement=placement,
                what=f"two goroutines ping-pong {what}, GOMAXPROCS={shown}",
                op=_ROUND_TRIP,
                switches_per_op=2,
                expect=GO_ONE_P if procs == 1 else GO_MORE_PS,
                go_body=body,
                gomaxprocs=procs,
            )
        )
    return out


def _c_pingpong(primitive: str, c_primitive: str, what: str, processes: bool = False) -> list[Case]:
    where = {
        "same-core": "both pinned to one CPU",
        "cross-core": "pinned to two CPUs",
        "unpinned": "left to the scheduler",
    }
    who = "two processes" if processes else "two pthreads"
    if primitive == "condvar":
        expect = {
            "same-core": CONDVAR_ONE_CPU,
            "cross-core": CONDVAR_TWO_CPUS,
            "unpinned": CONDVAR_UNPINNED,
        }
    elif primitive == "condvar.signal-unlocked":
        expect = {
            "same-core": CONDVAR_UNLOCKED_ONE_CPU,
            "cross-core": BLOCK_TWO_CPUS,
            "unpinned": BLOCK_UNPINNED,
        }
    else:
        expect = {
            "same-core": BLOCK_ONE_CPU,
            "cross-core": BLOCK_TWO_CPUS,
            "unpinned": BLOCK_UNPINNED,
        }
    return [
        Case(
            id=f"c.{primitive}.{placement}",
            lang="c",
            primitive=primitive,
            placement=placement,
            what=f"{who} ping-pong {what}, {where[placement]}",
            op=_ROUND_TRIP,
            switches_per_op=2,
            expect=expect[placement],
            cpus_needed=2 if placement == "cross-core" else 1,
            c_entry="ring",
            c_primitive=c_primitive,
            processes=processes,
        )
        for placement in C_PLACEMENTS
    ]


def _user_space(why: str) -> Expect:
    """What a case that never blocks should cost: no OS switch but background preemption."""
    return Expect(0.0, 0.0, USER_SPACE_MAX, why)


def _baseline(case_id: str, primitive: str, c_primitive: str, what: str, why: str) -> Case:
    """A baseline: one call of something that never switches, timed like the cases."""
    return Case(
        id=case_id,
        lang="c",
        primitive=primitive,
        placement="",
        what=f"baseline: {what}",
        op="one call",
        switches_per_op=1,
        unit="call",
        expect=_user_space(why),
        c_entry="baseline",
        c_primitive=c_primitive,
    )


# The ladder's placement rungs (bench.catalogue.topology picks the pair from sysfs, or
# skips the case with the reason): c.futex only, to keep the default run short.
TOPOLOGY_WHERE = {
    "smt-sibling": "pinned to two hardware threads of one core (SMT siblings)",
    "same-llc": "pinned to two cores that share the last-level cache",
    "other-llc": "pinned to two CPUs with different last-level caches",
}


def _futex_topology() -> list[Case]:
    return [
        Case(
            id=f"c.futex.{placement}",
            lang="c",
            primitive="futex",
            placement=placement,
            what=f"two pthreads ping-pong with raw futex wait/wake, {where}",
            op=_ROUND_TRIP,
            switches_per_op=2,
            expect=BLOCK_TWO_CPUS,  # two CPUs, as c.futex.cross-core
            cpus_needed=2,
            c_entry="ring",
            c_primitive="futex",
        )
        for placement, where in TOPOLOGY_WHERE.items()
    ]


def _catalogue() -> tuple[Case, ...]:
    cases: list[Case] = []
    cases += _go_pingpong("chan", "chan", "over unbuffered channels", GO_PLACEMENTS)
    cases += _go_pingpong("chanbuf1", "chanbuf1", "over channels of capacity 1", GO_PLACEMENTS)
    cases += _go_pingpong("cond", "cond", "with sync.Cond and sync.Mutex", GO_PLACEMENTS)
    cases += [
        Case(
            id="go.gosched.p1",
            lang="go",
            primitive="gosched",
            placement="p1",
            what="two runnable goroutines take turns with runtime.Gosched, GOMAXPROCS=1",
            op="one round trip of the turn",
            switches_per_op=2,
            expect=GO_ONE_P,
            go_body="gosched",
            gomaxprocs=1,
        )
    ]
    for placement, procs in GO_PLACEMENTS.items():
        shown = "every CPU" if procs == 0 else str(procs)
        cases.append(
            Case(
                id=f"go.chan.locked.{placement}",
                lang="go",
                primitive="chan",
                placement=placement,
                what=(
                    "two goroutines ping-pong over unbuffered channels, each holding "
                    f"runtime.LockOSThread, GOMAXPROCS={shown}"
                ),
                op=_ROUND_TRIP,
                switches_per_op=2,
                expect=GO_LOCKED_ONE_P if procs == 1 else GO_LOCKED_MORE_PS,
                go_body="chan.locked",
                gomaxprocs=procs,
            )
        )
    for placement, procs in GO_PLACEMENTS.items():
        shown = "every CPU" if procs == 0 else str(procs)
        cases.append(
            Case(
                id=f"go.spawn.{placement}",
                lang="go",
                primitive="spawn",
                placement=placement,
                what=f"create a goroutine, let it exit, join it (WaitGroup), GOMAXPROCS={shown}",
                op="one goroutine created, run and joined",
                switches_per_op=1,
                unit="goroutine",
                expect=GO_SPAWN_ONE_P if procs == 1 else GO_SPAWN_MORE_PS,
                go_body="spawn",
                gomaxprocs=procs,
            )
        )

    cases += _c_pingpong(
        "condvar", "condvar", "with a mutex and condition variables, signalling under the mutex"
    )
    cases += _c_pingpong(
        "condvar.signal-unlocked",
        "condvar-signal-unlocked",
        "with a mutex and condition variables, signalling after unlocking the mutex",
    )
    cases += _c_pingpong("futex", "futex", "with raw futex wait/wake")
    cases += _futex_topology()
    cases += _c_pingpong("sem", "sem", "with POSIX semaphores")
    cases += _c_pingpong("eventfd", "eventfd", "with eventfds")
    cases += _c_pingpong("pipe.threads", "pipe", "over pipes")
    cases += _c_pingpong("pipe.procs", "pipe", "over pipes", processes=True)
    cases += [
        Case(
            id="c.yield.same-core",
            lang="c",
            primitive="yield",
            placement="same-core",
            what="two pthreads on one CPU take turns, calling sched_yield until it is theirs",
            op="one round trip of the turn",
            switches_per_op=2,
            expect=YIELD_ONE_CPU,
            c_entry="ring",
            c_primitive="yield",
        ),
        Case(
            id="c.fcontext",
            lang="c",
            primitive="fcontext",
            placement="",
            what="two contexts of one thread switch with Boost.Context's jump_fcontext: "
            "registers and stack pointer only, no system call (the user-space floor)",
            op=_ROUND_TRIP,
            switches_per_op=2,
            expect=_user_space(
                "a switch saves and loads a few registers in user space: nothing enters the "
                "kernel, so only preemption by other tasks can count",
            ),
            c_entry="fcontext",
        ),
        Case(
            id="c.ucontext",
            lang="c",
            primitive="ucontext",
            placement="",
            what="two user-level contexts of one thread swap with swapcontext(3): a register "
            "swap plus one rt_sigprocmask system call per switch (glibc saves and restores "
            "the signal mask)",
            op=_ROUND_TRIP,
            switches_per_op=2,
            expect=_user_space(
                "the swap stays in one thread; its sigprocmask system call enters the kernel "
                "and returns to the same thread, which is no context switch",
            ),
            c_entry="ucontext",
        ),
        Case(
            id="c.spawn",
            lang="c",
            primitive="spawn",
            placement="",
            what="create a pthread, let it exit, join it",
            op="one thread created, run and joined",
            switches_per_op=1,
            unit="thread",
            expect=Expect(
                1.0,
                0.5,
                1.5,
                "the creator blocks in pthread_join once (or is preempted by the new thread "
                "instead), none if the thread has already exited; the creator alone is counted",
            ),
            c_entry="spawn",
        ),
        _baseline(
            "c.syscall.getppid",
            "syscall",
            "getppid",
            "a null system call, getppid(2) through syscall(2)",
            "one call enters the kernel and returns to the same thread: no context switch",
        ),
        _baseline(
            "c.clock.monotonic",
            "clock",
            "clock_monotonic",
            "clock_gettime(CLOCK_MONOTONIC), usually served by the vDSO",
            "one clock read stays in user space (the vDSO), or at most enters the kernel",
        ),
    ]

    # Scaling: N independent ping-pong pairs at once.
    for n in PAIRS_GO:
        cases.append(
            Case(
                id=f"go.chan.pairs{n}.pN",
                lang="go",
                primitive="chan",
                placement="pN",
                what=f"{n} goroutine {'pair' if n == 1 else 'pairs'} ping-pong over "
                "unbuffered channels at once, "
                "GOMAXPROCS=every CPU",
                op=f"one round trip in every pair ({2 * n} switches)",
                switches_per_op=2 * n,
                expect=GO_MORE_PS,
                go_body="chan.pairs",
                gomaxprocs=0,
                pairs=n,
                sweep="pairs",
                sweep_x=n,
            )
        )
    # Each thread pair is pinned to one CPU, the pairs dealt in turn over the CPUs, as a
    # goroutine pair stays on one P. Left to the scheduler, a pair's two threads land on
    # one CPU in one process and on two in the next (about 2 µs or 16 µs a switch here),
    # so the sweep measured the scheduler's placement of the first pairs, not how the
    # cost of a switch grows with the pairs.
    for n in PAIRS_THREADS:
        cases.append(
            Case(
                id=f"c.condvar.pairs{n}.spread",
                lang="c",
                primitive="condvar",
                placement="spread",
                what=f"{n} pthread {'pair' if n == 1 else 'pairs'} ping-pong with "
                "condition variables at once, each pair pinned to one CPU, the pairs dealt "
                "in turn over the CPUs",
                op=f"one round trip in every pair ({2 * n} switches)",
                switches_per_op=2 * n,
                expect=CONDVAR_ONE_CPU if n == 1 else CONDVAR_PAIRS_SPREAD,
                c_entry="ring",
                c_primitive="condvar",
                pairs=n,
                sweep="pairs",
                sweep_x=n,
            )
        )
    # The cache cost of a switch: a ring passing one token, each context
    # touching its own working set at every turn (lmbench lat_ctx style).
    for ws in RING_WORKING_SETS:
        kib = f"{ws // 1024}k"
        # What the goroutine ring and the thread ring share: one lap, the buffers.
        ring: dict[str, Any] = {
            "op": f"one lap of the ring ({RING_SIZE} switches)",
            "switches_per_op": RING_SIZE,
            "ring_size": RING_SIZE,
            "working_set": ws,
            "sweep": "ring",
            "sweep_x": ws,
        }
        cases.append(
            Case(
                id=f"go.chan.ring{RING_SIZE}-ws{kib}.p1",
                lang="go",
                primitive="chan",
                placement="p1",
                what=f"a ring of {RING_SIZE} goroutines passes a token over channels, "
                f"each touching {ws // 1024} KiB at every turn, GOMAXPROCS=1",
                expect=GO_ONE_P,
                go_body="chan.ring",
                gomaxprocs=1,
                **ring,
            )
        )
        cases.append(
            Case(
                id=f"c.condvar.ring{RING_SIZE}-ws{kib}.same-core",
                lang="c",
                primitive="condvar",
                placement="same-core",
                what=f"a ring of {RING_SIZE} pthreads on one CPU passes a turn with "
                f"condition variables, each touching {ws // 1024} KiB at every turn",
                expect=CONDVAR_ONE_CPU,
                c_entry="ring",
                c_primitive="condvar",
                **ring,
            )
        )
    # The same touching with the same buffers and no switch (lmbench lat_ctx subtracts
    # it): one context touching the ring's buffers in turn. The report takes it from the
    # ring's figure, leaving what the switch itself costs the caches.
    for ws in RING_WORKING_SETS:
        if ws == 0:
            continue
        kib = f"{ws // 1024}k"
        for lang, placement, where in (
            ("go", "p1", "one goroutine, GOMAXPROCS=1"),
            ("c", "same-core", "one pthread pinned to one CPU"),
        ):
            cases.append(
                Case(
                    id=f"{lang}.touch.ring{RING_SIZE}-ws{kib}.{placement}",
                    lang=lang,
                    primitive="touch",
                    placement=placement,
                    what=f"{where} touches {RING_SIZE} buffers of {ws // 1024} KiB in turn, "
                    f"as the ring's {RING_SIZE} contexts do, with no switch",
                    op=f"{RING_SIZE} turns, each touching one buffer",
                    switches_per_op=RING_SIZE,
                    unit="turn",
                    expect=_user_space(
                        "one context touching memory never switches: only preemption by "
                        "other tasks can count",
                    ),
                    go_body="touch.ring" if lang == "go" else "",
                    gomaxprocs=1 if lang == "go" else None,
                    c_entry="touch" if lang == "c" else "",
                    ring_size=RING_SIZE,
                    working_set=ws,
                    sweep="touch",
                    sweep_x=ws,
                )
            )
    return tuple(cases)


def _test_cases() -> tuple[Case, ...]:
    """Cases that hang or crash on purpose, for the suite's own tests only."""
    return tuple(
        Case(
            id=f"test.{kind}",
            lang="go",
            primitive=kind,
            placement="",
            what=f"test only: a case that {kind}s",
            op="nothing",
            switches_per_op=1,
            expect=Expect(0.0, 0.0, math.inf, "test only"),
            go_body=f"test.{kind}",
            gomaxprocs=1,
        )
        for kind in ("hang", "crash")
    )


# SWITCHBENCH_TEST_CASES=1 adds the test-only cases; they are never in a normal run.
CATALOGUE: tuple[Case, ...] = _catalogue() + (
    _test_cases() if os.environ.get("SWITCHBENCH_TEST_CASES") else ()
)


def all_cases() -> list[Case]:
    return list(CATALOGUE)


def get_case(case_id: str) -> Case:
    for case in CATALOGUE:
        if case.id == case_id:
            return case
    raise UsageError(f"unknown case {case_id!r}; `switchbench list` shows the case ids")


def select(patterns: str | None) -> list[Case]:
    """The cases matching a comma-separated list of globs, in catalogue order."""
    if not patterns:
        return all_cases()
    globs = [p.strip() for p in patterns.split(",") if p.strip()]
    if not globs:
        raise UsageError("--only is empty; give a glob such as 'go.*' or 'c.condvar.*'")
    for glob in globs:
        if not any(fnmatch.fnmatchcase(c.id, glob) for c in CATALOGUE):
            raise UsageError(
                f"--only {glob!r} matches no case; `switchbench list` shows the case ids"
            )
    return [c for c in CATALOGUE if any(fnmatch.fnmatchcase(c.id, g) for g in globs)]
