"""A running case body → its mood canary: ns per load of a fixed pointer chase, or None.

The canary (c/canary.c, go/canary) is a memory-latency pointer chase timed just
before and just after each timed value, in the same process and on the same CPU
as the case, so that the analysis (bench.analysis.mood) can take the machine's
momentary state out of the values. Its buffer is made once per process, on
first use, outside any value.

Which CPU: a C case's first side's CPU (pin_cpus: the one CPU of a same-core
case, side A's of a cross-core one); unpinned where the case is (spread,
unpinned placements). Go cases are never pinned: the chase runs on the
driver's serving goroutine, locked to its OS thread for the while, wherever
the scheduler has that thread.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from bench.native.bridge import CBody, GoBody


@dataclass(frozen=True)
class Shape:
    """One canary: a chase through `bytes` of memory, `loads` dependent loads long."""

    name: str
    bytes: int
    loads: int
    why: str
    # A mix: these shapes in turn, each with a 1/len(parts) share of its loads, and the
    # geometric mean of their ns per load (bytes and loads are then 0).
    parts: tuple[str, ...] = ()
    # Walk the whole buffer once, untimed, before the timed loads: between two chases
    # the case and pyperf run, and evict as much of the buffer as their own working set
    # takes, so an unwarmed chase measures that refill (the chase just after a value
    # slower than the one just before it, by how much the case evicted) as much as the
    # machine (tests/native/test_canary.py shows the refill). Warmed, the chase before
    # and the chase after a value time the same thing: the buffer's cache level as the
    # machine lets it be now. Not for llc, whose buffer is bigger than the caches it is
    # named past (a lap through it would cost far more than the timed loads).
    warm: bool = True

    # The timed loads in this many equal stretches, each timed on its own, and the
    # median stretch's ns per load the reading: an interrupt or a preemption lands in
    # one stretch and is left out, while a mood of the machine (lasting milliseconds)
    # slows every stretch. Timed as one stretch, the odd chase read far above its case's
    # other chases (README, "The mood canary", says how that weakened the fit).
    laps: int = 9

    @property
    def warm_loads(self) -> int:
        return self.bytes // LINE_BYTES if self.warm else 0


LINE_BYTES = 64  # one pointer per cache line, as c/canary.c and go/canary lay them out
# The loads of each are set so that one chase takes roughly 0.1-0.3 ms on this
# project's development VM, a percent or two of a 25 ms value with one before and
# one after it. The buffers would sit inside the cache level they are named for on
# that VM (L1d 48 KiB, L2 1 MiB, L3 32 MiB shared), except llc, which is bigger than
# any L2 and so reaches the shared L3 and memory past it. Each but llc is warmed by one
# untimed lap first (Shape.warm).
SHAPES = {
    s.name: s
    for s in (
        Shape("l1", 32 << 10, 200_000, "32 KiB: inside L1d"),
        Shape("l2", 256 << 10, 30_000, "256 KiB: past L1d, inside L2"),
        Shape("l2full", 1 << 20, 5_000, "1 MiB: about the whole L2"),
        Shape("llc", 16 << 20, 1_500, "16 MiB: past L2, into the shared L3 and memory", warm=False),
        Shape(
            "mix",
            0,
            0,
            "l1, l2, l2full and llc in turn, a quarter of the loads each",
            ("l1", "l2", "l2full", "llc"),
        ),
    )
}
# The shape measured beside every value, chosen by `python -m bench.measure.canary_study`
# (README, "The mood canary": it explained the most variance across the case families).
CHOSEN = "l2"
CANARY_SEED = 1


Canary = Callable[[], float | None]


def _c_canary(body: CBody, shape: Shape) -> Canary:
    ffi, lib = body.ffi, body.lib
    handle = lib.sb_canary_new(shape.bytes, CANARY_SEED)
    cpu = body.cpu_a  # -1 for spread and unpinned placements: not pinned
    if handle == ffi.NULL:
        return lambda: None

    def measure() -> float | None:
        ns = float(lib.sb_canary_ns(handle, shape.warm_loads, shape.loads, shape.laps, cpu))
        return ns if ns > 0 and math.isfinite(ns) else None

    return measure


def _go_canary(body: GoBody, shape: Shape) -> Canary:
    def measure() -> float | None:
        proc = body.proc
        if proc.stdin is None or proc.stdout is None:
            return None
        proc.stdin.write(f"canary {shape.bytes} {shape.warm_loads} {shape.loads} {shape.laps}\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        try:
            answer = json.loads(line) if line else {}
        except ValueError:
            return None
        ns = answer.get("canary_ns") if isinstance(answer, dict) else None
        return float(ns) if isinstance(ns, int | float) and ns > 0 else None

    return measure


def _mix(parts: list[Canary]) -> Canary:
    def measure() -> float | None:
        each = [part() for part in parts]
        if any(ns is None for ns in each):
            return None
        return math.exp(sum(math.log(ns) for ns in each if ns) / len(each))

    return measure


def canary_for(body: CBody | GoBody, shape: Shape | None = None) -> Canary:
    """A function timing one chase of the shape (default: CHOSEN) beside `body`: ns per
    load, or None where the canary could not run (recorded as unavailable, never 0)."""
    shape = shape or SHAPES[CHOSEN]
    if shape.parts:
        share = len(shape.parts)
        parts = [SHAPES[name] for name in shape.parts]
        return _mix(
            [
                canary_for(
                    body, Shape(p.name, p.bytes, max(1, p.loads // share), p.why, warm=p.warm)
                )
                for p in parts
            ]
        )
    if isinstance(body, CBody):
        return _c_canary(body, shape)
    return _go_canary(body, shape)
