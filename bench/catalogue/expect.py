"""How a mechanism switches → how many OS context switches one switch should cost.

Expect is a case's expectation (the count, the range outside which the report flags a
MISS, and why); the constants below are the expectations of each way of switching,
shared by the cases that switch that way (bench.catalogue.cases).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def range_text(low: float, high: float) -> str:
    """An expected range as the report and `switchbench list -v` write it: the two
    bounds joined by an en dash, an infinite one written as the infinity sign."""

    def shown(x: float) -> str:
        return "∞" if math.isinf(x) else f"{x:g}"

    return f"{shown(low)}–{shown(high)}"


@dataclass(frozen=True)
class Expect:
    """How many OS context switches one switch (or one of the case's units) should
    cost: the count its mechanism gives, the range a measurement must fall in (both
    ends included; outside it the report flags a MISS), and why, in one line."""

    value: float
    low: float
    high: float
    why: str


# What one switch should cost in OS context switches, by how the case switches. Each
# range runs half a switch either side of the counts its mechanism can give (a
# measurement nearer another count is another mechanism), except where the mechanism
# fixes a bound: on one CPU the side handing on must itself be switched out, so never
# fewer than one there; and where nothing enters the scheduler, only preemption by other
# tasks and the Go runtime's own threads (sysmon: about a hundred wake-ups a second) can
# count, far under 0.01 per switch for anything quicker than 10 µs.
USER_SPACE_MAX = 0.01
GO_ONE_P = Expect(
    0.0,
    0.0,
    USER_SPACE_MAX,
    "the Go scheduler switches goroutines in user space on one thread; only the "
    "runtime's own threads (sysmon) enter the kernel",
)
GO_MORE_PS = Expect(
    0.0,
    0.0,
    0.1,
    "a woken goroutine runs next on the waker's P, in user space; an idle P's thread "
    "woken to look for work, parking again, adds an OS switch now and then, not per switch",
)
GO_SPAWN_ONE_P = Expect(
    0.0,
    0.0,
    USER_SPACE_MAX,
    "creating, running and joining a goroutine stay in the Go scheduler, on one thread",
)
GO_SPAWN_MORE_PS = Expect(
    0.0,
    0.0,
    0.1,
    "creating, running and joining a goroutine stay in the Go scheduler; an idle P's "
    "thread woken for the new goroutine adds an OS switch now and then",
)
GO_LOCKED_ONE_P = Expect(
    2.0,
    1.5,
    3.5,
    "per hand-off the blocked goroutine's locked thread sleeps, and a spare thread wakes "
    "to pass the P to the other locked thread and sleeps again; the kernel places those "
    "threads, and a woken one that shares a CPU with its waker preempts it: up to one "
    "involuntary switch more",
)
GO_LOCKED_MORE_PS = Expect(
    3.0,
    2.5,
    3.5,
    "as with one P (2), and each hand-off's wakep also starts a spinning thread for an "
    "idle P, which finds nothing it may run and parks",
)
# The C ping-pongs other than the condition variable: the waiter sleeps in the kernel
# (futex, sem_wait, read) until the other side wakes it.
BLOCK_ONE_CPU = Expect(
    1.0,
    0.95,
    1.5,
    "on one CPU the side handing on must be switched out for the other to run: exactly "
    "once per hand-off, whether it blocks or is preempted by the side it woke",
)
BLOCK_TWO_CPUS = Expect(
    1.0,
    0.5,
    1.5,
    "the woken side runs on its own CPU while the waker blocks until its turn returns: "
    "one switch per hand-off, fewer when the turn is back before the waker sleeps",
)
BLOCK_UNPINNED = Expect(
    1.0,
    0.5,
    1.5,
    "one switch per hand-off whether the scheduler puts both sides on one CPU (exactly "
    "one) or on two (at most one)",
)
# pthread_cond_signal is called with the mutex held.
CONDVAR_ONE_CPU = Expect(
    2.0,
    1.5,
    3.5,
    "signalled under the mutex, the woken waiter preempts the signaller, finds the mutex "
    "held and blocks again: 2, or 3 when the signaller blocks in its own wait before the "
    "waiter runs",
)
CONDVAR_TWO_CPUS = Expect(
    1.0,
    0.5,
    1.5,
    "the waiter wakes on its own CPU after the signaller has let go of the mutex: one "
    "blocking hand-off",
)
# pthread_cond_signal is called after the mutex is let go.
CONDVAR_UNLOCKED_ONE_CPU = Expect(
    1.0,
    0.95,
    1.5,
    "signalled after the mutex is let go, the woken waiter finds it free: the signaller is "
    "switched out once per hand-off, preempted by the waiter it woke or blocking in its "
    "own wait",
)
# Several condvar pairs, each pinned to one CPU, the pairs dealt over the CPUs.
CONDVAR_PAIRS_SPREAD = Expect(
    1.5,
    0.95,
    3.5,
    "2 to 3 while a CPU holds one pair (the woken waiter preempts the signaller, as "
    "same-core); toward 1 as pairs share a CPU, since a woken waiter then queues behind "
    "other pairs' threads and runs after its signaller has let go of the mutex",
)
CONDVAR_UNPINNED = Expect(
    1.5,
    0.5,
    3.5,
    "1 per hand-off when the scheduler wakes the waiter on another CPU, 2 to 3 when on "
    "the signaller's (as same-core), and it varies",
)
YIELD_ONE_CPU = Expect(
    1.0,
    0.95,
    1.5,
    "a sched_yield that finds the turn not yet its own switches to the other thread, "
    "which holds it: once per hand-off, never fewer on one CPU",
)
