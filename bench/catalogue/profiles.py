"""A profile's name → which cases a run covers and how hard it samples them.

Sampling (pyperf's processes, values and stopping rule for one case), MemoryPlan (the
sizes of the memory measurements), Profile (a run's settings) and PROFILES (smoke, quick,
default, full). PROFILES is one declarative table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from bench.catalogue.cases import Case
from bench.catalogue.topology import TOPOLOGY_PLACEMENTS


@dataclass(frozen=True)
class MemoryPlan:
    goroutines: tuple[int, ...]
    threads: tuple[int, ...]
    limits: tuple[str, ...]
    growth: tuple[int, ...] = (8 << 10, 64 << 10)  # stack sizes one goroutine grows to
    ceiling: bool = False  # also park as many as the budget (or the system) allows


@dataclass(frozen=True)
class Sampling:
    """How hard pyperf samples one case, and when it stops.

    A case is sampled in batches: the first of `processes` worker processes, then
    batches of `more_processes` while the 95% CI half-width of its median is wider
    than `target_ci` (relative), or fewer than bench.analysis.stats.MIN_PROCESSES_FOR_CI
    processes have taken values, and the case has time left of `budget_s`."""

    processes: int  # worker processes taking values in the first batch
    values: int  # values per worker process
    warmups: int  # warm-up values per worker, thrown away
    min_time: float  # seconds one value must take at least (pyperf calibrates loops to it)
    target_ci: float = 0.03  # stop once the CI half-width is within this share of the median
    budget_s: float = 0.0  # wall seconds a case may use in all; 0: the first batch only
    more_processes: int = 2  # worker processes in each later batch

    @property
    def worker_processes(self) -> int:
        return self.processes + 1

    def deadline_s(self) -> float:
        """A generous wall-clock limit for one batch, after which it is killed as hung.

        SWITCHBENCH_DEADLINE_S overrides it (the tests use a short one)."""
        override = os.environ.get("SWITCHBENCH_DEADLINE_S")
        if override:
            return float(override)
        values = self.worker_processes * (self.values + self.warmups + 12)
        return 60.0 + 20.0 * values * self.min_time


SPREAD_PLACEMENTS = ("p2", "pN", "cross-core", "unpinned")
# The topology placements (c.futex.smt-sibling, .same-llc, .other-llc) span two CPUs too.
SPREAD_PLACEMENTS += TOPOLOGY_PLACEMENTS


@dataclass(frozen=True)
class Profile:
    """Which cases a run covers by default, and how hard it samples them."""

    name: str
    cases: Sampling
    sweeps: Sampling | None  # None: the scaling sweeps are left out unless --only names them
    memory: MemoryPlan  # sizes of the memory measurements
    leak_k: int  # how many times each goroutine-leak scenario runs
    summary: str
    overhead_repeats: int = 20  # timed loops of each minimal, harness-free loop
    # The check against perf bench sched pipe (bench.measure.agree): interleaved rounds, each of
    # this many round trips per side.
    agreement_rounds: int = 10
    agreement_round_trips: int = 20_000
    # Cases whose threads or Ps spread over CPUs (p2, pN, cross-core, unpinned) are
    # placed by the scheduler, often bimodally; a CI target is rarely in reach for them,
    # so they may get a smaller budget than the one-CPU cases the answer rests on.
    spread: Sampling | None = None
    # The latency step (bench.measure.latency): runs of each latency case, and hand-offs
    # timed one by one in each run (default and full: 5 x 20,000, the 100,000 a case needs).
    latency_runs: int = 5
    latency_handoffs: int = 20_000
    # The time split (bench.measure.timesplit): which cases get one accounted run
    # ("headline" or "every"; None: only with --only timesplit, then "headline"), and the
    # seconds of timed region each run aims at (long enough for 100 Hz ticks to resolve).
    timesplit: str | None = None
    timesplit_region_s: float = 0.4

    def sampling(self, case: Case) -> Sampling:
        if case.sweep and self.sweeps:
            return self.sweeps
        if self.spread and case.placement in SPREAD_PLACEMENTS:
            return self.spread
        return self.cases

    def includes(self, case: Case) -> bool:
        return not case.sweep or self.sweeps is not None


# default and full: up to 10^6 goroutines and 10^4 threads, then the ceiling.
WHOLE_MEMORY_PLAN = MemoryPlan(
    (1000, 10_000, 100_000, 1_000_000),
    (100, 1000, 10_000),
    ("8MiB", "1MiB", "256KiB", "unlimited"),
    growth=(8 << 10, 64 << 10, 512 << 10, 4 << 20, 64 << 20),
    ceiling=True,
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "smoke",
            Sampling(processes=1, values=3, warmups=1, min_time=0.01, target_ci=0.10),
            None,
            MemoryPlan(goroutines=(1000,), threads=(100,), limits=("8MiB",)),
            40,
            "every case but the sweeps, 1 process x 3 values of 10 ms, one batch: checks that "
            "all runs",
            overhead_repeats=5,
            agreement_rounds=3,
            agreement_round_trips=5_000,
            latency_handoffs=2_000,
            timesplit_region_s=0.1,  # with --only timesplit: checks that it runs
        ),
        Profile(
            "quick",
            Sampling(processes=1, values=3, warmups=1, min_time=0.02, target_ci=0.05),
            None,
            MemoryPlan(
                (1000, 10_000, 100_000),
                (100, 1000),
                ("8MiB", "1MiB", "256KiB", "unlimited"),
                growth=(8 << 10, 64 << 10, 512 << 10, 4 << 20),
            ),
            200,
            "every case but the sweeps, 1 process x 3 values of 20 ms, one batch: a first look "
            "in a minute",
            overhead_repeats=10,
            agreement_rounds=5,
            latency_handoffs=4_000,
        ),
        Profile(
            "default",
            # Many short processes rather than a few long ones: processes differ more
            # from one another than the values inside one do, so the CI (which resamples
            # processes) narrows with the number of processes.
            Sampling(
                processes=4, values=4, warmups=1, min_time=0.025, budget_s=12.0, more_processes=3
            ),
            # Sweep points: 5 processes, so that their CIs (the slope's needs 5) mean
            # something, and values of 50 ms, so that even the largest point runs
            # enough laps for its start-up to vanish against its run.
            Sampling(processes=5, values=3, warmups=1, min_time=0.05),
            WHOLE_MEMORY_PLAN,
            1000,
            "every case and the sweeps, 4 processes x 4 values of 25 ms, then 3 more at a "
            "time until the CI is within ±3% or 12 s are used (cases spread over CPUs: "
            "3 s; sweep points 5 x 3 of 50 ms)",
            spread=Sampling(
                processes=4, values=4, warmups=1, min_time=0.025, budget_s=3.0, more_processes=3
            ),
            timesplit="headline",
        ),
        Profile(
            "full",
            Sampling(
                processes=5, values=5, warmups=1, min_time=0.1, target_ci=0.01, budget_s=120.0
            ),
            Sampling(processes=5, values=4, warmups=1, min_time=0.1, target_ci=0.03, budget_s=20.0),
            WHOLE_MEMORY_PLAN,
            1000,
            "every case and the sweeps, 5 processes x 5 values of 100 ms, then more until "
            "the CI is within ±1% (sweep points ±3%) or 2 minutes per case are used",
            agreement_rounds=20,
            agreement_round_trips=100_000,
            timesplit="every",
            timesplit_region_s=1.0,
        ),
    )
}
