"""sysfs CPU topology (a root folder) → the CPU pair of a topology placement, or why none.

The placement rungs of the ladder pin a ping-pong's two sides to CPUs related in one way:
`smt-sibling` (two hardware threads of one core: thread_siblings_list), `same-llc` (two
cores sharing the last-level cache) and `other-llc` (two CPUs with different last-level
caches). The last-level cache is the cache index of the highest level a CPU lists
(index3, the L3, on most x86). The root is a parameter so that tests can fake sysfs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SYSFS_CPU = Path("/sys/devices/system/cpu")
TOPOLOGY_PLACEMENTS = ("smt-sibling", "same-llc", "other-llc")


@dataclass(frozen=True)
class CpuPlace:
    """Where one CPU sits: the CPUs sharing its core, and those sharing its last cache."""

    cpu: int
    core: frozenset[int]
    llc: frozenset[int]
    llc_level: int


def cpu_list(text: str) -> frozenset[int]:
    """A sysfs CPU list ("0-3,8,10-11") → its CPUs."""
    out: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        out.update(range(int(low), int(high or low) + 1))
    return frozenset(out)


def _last_level_cache(cpu_dir: Path) -> tuple[int, frozenset[int]]:
    """The highest-level cache a CPU lists: its level and the CPUs sharing it."""
    best: tuple[int, frozenset[int]] | None = None
    for index in sorted((cpu_dir / "cache").glob("index[0-9]*")):
        level = int((index / "level").read_text())
        shared = cpu_list((index / "shared_cpu_list").read_text())
        if best is None or level > best[0]:
            best = (level, shared)
    if best is None:
        raise OSError(f"{cpu_dir / 'cache'} lists no cache")
    return best


def read_place(cpu: int, root: Path = SYSFS_CPU) -> CpuPlace:
    """One CPU's place from sysfs under root; OSError or ValueError if unreadable."""
    cpu_dir = root / f"cpu{cpu}"
    core = cpu_list((cpu_dir / "topology" / "thread_siblings_list").read_text())
    level, llc = _last_level_cache(cpu_dir)
    return CpuPlace(cpu, core | {cpu}, llc | {cpu}, level)


def _related(placement: str, a: CpuPlace, b: CpuPlace) -> bool:
    if placement == "smt-sibling":
        return b.cpu in a.core
    if placement == "same-llc":
        return b.cpu not in a.core and b.cpu in a.llc
    if placement == "other-llc":
        return b.cpu not in a.llc
    raise ValueError(f"{placement!r} is no topology placement")


_NONE_WHY = {
    "smt-sibling": "no two CPUs share a core (no SMT) on this machine",
    "same-llc": "no two cores share a last-level cache on this machine",
    "other-llc": "every CPU shares one last-level cache on this machine",
}


def topology_pair(placement: str, cpus: list[int], root: Path = SYSFS_CPU) -> tuple[int, int] | str:
    """The first pair of usable CPUs (in order) related as the placement says, or the
    reason there is none (with the CPUs and caches seen, so a reader can check it)."""
    if len(cpus) < 2:
        return f"needs 2 CPUs and this process may use {len(cpus)}"
    try:
        places = [read_place(cpu, root) for cpu in cpus]
    except (OSError, ValueError) as e:
        return f"the CPU topology is not readable under {root} ({e})"
    for i, a in enumerate(places):
        for b in places[i + 1 :]:
            if _related(placement, a, b):
                return a.cpu, b.cpu
    cores = len({p.core for p in places})
    caches = len({p.llc for p in places})
    return (
        f"{_NONE_WHY[placement]} (usable CPUs {', '.join(map(str, cpus))}: "
        f"{cores} {'core' if cores == 1 else 'cores'}, {caches} L{places[0].llc_level} "
        f"{'cache' if caches == 1 else 'caches'})"
    )
