"""A case and this machine's CPUs → whether it can run here, and where its threads go.

usable_cpus (the affinity mask), affinity_refused (a sandbox forbidding pinning),
skip_reason (why a case cannot run here) and pin_cpus (the CPUs of a C ping-pong's sides).
The topology placements (an SMT sibling, another core on the same last-level cache, another
last-level cache) choose their pair from sysfs (bench.catalogue.topology).
"""

from __future__ import annotations

import errno
import os
from functools import cache

from bench.catalogue.cases import Case
from bench.catalogue.topology import TOPOLOGY_PLACEMENTS, topology_pair


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (affinity mask), in order."""
    return sorted(os.sched_getaffinity(0))


# The placements that pin threads to CPUs with pthread_setaffinity_np.
PINNED = ("same-core", "cross-core", "spread", *TOPOLOGY_PLACEMENTS)


@cache
def affinity_refused() -> str | None:
    """Why this process may not set its CPU affinity (some containers and sandboxes
    forbid it), or None if it may. Probed by setting the mask it already has."""
    try:
        os.sched_setaffinity(0, os.sched_getaffinity(0))
    except OSError as e:
        return f"sched_setaffinity: {errno.errorcode.get(e.errno or 0, e.errno)} ({e.strerror})"
    return None


def skip_reason(case: Case, cpus: list[int]) -> str | None:
    """Why a case's placement cannot be had on this machine, or None if it can
    (bench.native.bridge.case_skip_reason adds what the case loads at run time)."""
    if case.cpus_needed > len(cpus):
        return (
            f"needs {case.cpus_needed} CPUs and this process may use {len(cpus)} "
            f"(CPU {', '.join(map(str, cpus))})"
        )
    refused = affinity_refused() if case.lang == "c" and case.placement in PINNED else None
    if refused:
        return f"pins its threads to CPUs and this machine refuses CPU affinity ({refused})"
    if case.placement in TOPOLOGY_PLACEMENTS:
        pair = topology_pair(case.placement, cpus)
        return pair if isinstance(pair, str) else None
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
    if placement in TOPOLOGY_PLACEMENTS:
        pair = topology_pair(placement, cpus)
        if isinstance(pair, str):
            raise ValueError(f"placement {placement!r} cannot be pinned here: {pair}")
        return pair
    if placement in ("unpinned", "", "spread"):
        # spread pins each pair itself, over every usable CPU (bench.native.bridge)
        return -1, -1
    raise ValueError(f"placement {placement!r} has no CPU pinning")
