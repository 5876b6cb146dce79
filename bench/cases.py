"""The catalogue: every benchmark case the suite knows, as plain records.

A case says what it runs (language, body, placement), what one op is and
how many switches it holds, and how many OS context switches one switch
should cost, so the report can set the measurement beside the expectation.
"""

from __future__ import annotations

import fnmatch
import math
import os
from dataclasses import dataclass

from bench.errors import UsageError


@dataclass(frozen=True)
class Case:
    id: str
    lang: str  # "go" or "c"
    primitive: str  # "chan", "condvar", ...
    placement: str  # "p1", "p2" (GOMAXPROCS) or "same-core", "cross-core"
    description: str
    op: str  # what one op (one pyperf loop) is
    switches_per_op: int
    expected_os_ctx_switches_per_switch: float
    # The measured figure outside this range is flagged in the report.
    expected_os_ctx_range: tuple[float, float]
    why_expected: str
    cpus_needed: int = 1
    gomaxprocs: int | None = None  # Go cases only

    @property
    def family(self) -> str:
        return f"{self.lang}.{self.primitive}"


_ROUND_TRIP = "one round trip (A hands control to B, B hands it back)"

CATALOGUE: tuple[Case, ...] = (
    Case(
        id="go.chan.p1",
        lang="go",
        primitive="chan",
        placement="p1",
        description="two goroutines ping-pong over unbuffered channels, GOMAXPROCS=1",
        op=_ROUND_TRIP,
        switches_per_op=2,
        expected_os_ctx_switches_per_switch=0.0,
        expected_os_ctx_range=(0.0, 0.05),
        why_expected="the Go scheduler switches goroutines in user space on one thread",
        gomaxprocs=1,
    ),
    Case(
        id="go.chan.p2",
        lang="go",
        primitive="chan",
        placement="p2",
        description="two goroutines ping-pong over unbuffered channels, GOMAXPROCS=2",
        op=_ROUND_TRIP,
        switches_per_op=2,
        expected_os_ctx_switches_per_switch=0.0,
        expected_os_ctx_range=(0.0, 0.5),
        why_expected=(
            "a woken goroutine usually runs next on the waker's P, in user space; "
            "waking and parking the idle second P adds some OS switches"
        ),
        gomaxprocs=2,
    ),
    Case(
        id="c.condvar.same-core",
        lang="c",
        primitive="condvar",
        placement="same-core",
        description="two pthreads ping-pong with a mutex and condition variables, both on one CPU",
        op=_ROUND_TRIP,
        switches_per_op=2,
        expected_os_ctx_switches_per_switch=1.0,
        expected_os_ctx_range=(0.5, math.inf),
        why_expected=(
            "each hand-off blocks one thread in the kernel; wake-up preemption can add "
            "an involuntary switch"
        ),
    ),
    Case(
        id="c.condvar.cross-core",
        lang="c",
        primitive="condvar",
        placement="cross-core",
        description="two pthreads ping-pong with a mutex and condition variables, on two CPUs",
        op=_ROUND_TRIP,
        switches_per_op=2,
        expected_os_ctx_switches_per_switch=1.0,
        expected_os_ctx_range=(0.5, math.inf),
        why_expected="each hand-off blocks the sender and wakes the other thread on its own CPU",
        cpus_needed=2,
    ),
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


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (affinity mask), in order."""
    return sorted(os.sched_getaffinity(0))


def skip_reason(case: Case, cpus: list[int]) -> str | None:
    """Why a case cannot run on this machine, or None if it can."""
    if case.cpus_needed > len(cpus):
        return (
            f"needs {case.cpus_needed} CPUs and this process may use {len(cpus)} "
            f"(CPU {', '.join(map(str, cpus))})"
        )
    return None


def _core_id(cpu: int) -> str | None:
    """The physical core of a CPU, to keep SMT siblings apart; None if unknown."""
    base = f"/sys/devices/system/cpu/cpu{cpu}/topology"
    try:
        with open(f"{base}/physical_package_id") as pkg, open(f"{base}/core_id") as core:
            return f"{pkg.read().strip()}:{core.read().strip()}"
    except OSError:
        return None


def pin_cpus(placement: str, cpus: list[int]) -> tuple[int, int]:
    """The CPUs the two sides of a C ping-pong are pinned to (-1: unpinned).

    cross-core prefers a second CPU on another physical core, so the pair
    does not share one core's SMT siblings when a real second core exists.
    """
    if placement == "same-core":
        return cpus[0], cpus[0]
    if placement == "cross-core":
        first_core = _core_id(cpus[0])
        for cpu in cpus[1:]:
            core = _core_id(cpu)
            if core is None or core != first_core:
                return cpus[0], cpu
        return cpus[0], cpus[1]
    if placement == "unpinned":
        return -1, -1
    raise ValueError(f"placement {placement!r} has no CPU pinning")
