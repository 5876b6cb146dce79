"""A run's summary → the ladder: rungs from the user-space floor up, each with its extra cost.

Each rung adds one mechanism to a base case: by default the rung below, or a case that
differs from it in that mechanism alone (two processes over two threads with the same
pipe; the cross-CPU wake-up over the same futex on one CPU; locked goroutines over the
same channel unlocked). The words name mechanisms, which are facts; every number comes
from summary.csv. The extra cost is the difference of the two medians; its range is the
widest difference the two 95% CIs allow (one's low minus the other's high, and the
reverse), which holds the true difference whenever both CIs hold their medians, so at
least 90% of the time. A negative extra cost is kept as measured and flagged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class RungSpec:
    case: str
    mechanism: str  # what this rung adds, in words
    base: str | None  # the case it adds the mechanism to; None: the floor itself
    placement: bool = False  # a placement rung (chosen from the machine's topology)


FLOOR = "c.fcontext"
SAME_CORE_FUTEX = "c.futex.same-core"

RUNGS: tuple[RungSpec, ...] = (
    RungSpec(FLOOR, "a user-space register switch: registers and stack pointer only", None),
    RungSpec(
        "go.gosched.p1",
        "the Go scheduler: the goroutine goes back on the run queue and the next one is picked",
        FLOOR,
    ),
    RungSpec(
        "go.chan.p1",
        "a channel hand-off: the sender parks on the channel and the receiver is made runnable",
        "go.gosched.p1",
    ),
    RungSpec(
        "c.ucontext",
        "a system call per switch: swapcontext saves and restores the signal mask (rt_sigprocmask)",
        FLOOR,
    ),
    RungSpec(
        "c.syscall.getppid",
        "a null system call, alone: entering the kernel and returning (per call)",
        None,
    ),
    RungSpec(
        SAME_CORE_FUTEX,
        "a blocking hand-off on one CPU: futex wait puts the thread to sleep in the kernel, "
        "futex wake wakes the other, the kernel switches threads",
        "c.syscall.getppid",
    ),
    RungSpec(
        "c.condvar.same-core",
        "a mutex and condition variable: the woken thread finds the mutex held and blocks "
        "again (a second kernel switch)",
        SAME_CORE_FUTEX,
    ),
    RungSpec(
        "c.pipe.procs.same-core",
        "two processes: an address-space switch (page tables) at every hand-off",
        "c.pipe.threads.same-core",
    ),
    RungSpec(
        "c.futex.cross-core",
        "a cross-CPU wake-up: the woken thread runs on another CPU, which the kernel "
        "must wake (an inter-processor interrupt when it idles)",
        SAME_CORE_FUTEX,
    ),
    RungSpec(
        "go.chan.locked.p1",
        "goroutines locked to OS threads: the Go scheduler's hand-off plus a kernel switch "
        "between the threads",
        "go.chan.p1",
    ),
    RungSpec(
        "c.futex.smt-sibling",
        "the woken thread on the other hardware thread of the same core (SMT sibling)",
        SAME_CORE_FUTEX,
        placement=True,
    ),
    RungSpec(
        "c.futex.same-llc",
        "the woken thread on another core sharing the last-level cache",
        SAME_CORE_FUTEX,
        placement=True,
    ),
    RungSpec(
        "c.futex.other-llc",
        "the woken thread on a CPU with another last-level cache (or socket)",
        SAME_CORE_FUTEX,
        placement=True,
    ),
)


NAN = math.nan


@dataclass(frozen=True)
class Rung:
    spec: RungSpec
    status: str  # the case's status in the run: ok, skipped, failed, not run, absent
    reason: str  # why it has no figure (from summary.csv), "" when ok
    unit: str  # what the figure is per: switch, call
    ns: float  # median ns per unit (NaN when not measured)
    ci_low: float
    ci_high: float
    base_ns: float  # the base case's median (NaN when it has none)
    extra_ns: float  # ns - base_ns: the difference of two medians
    extra_low: float  # the widest difference the two CIs allow
    extra_high: float
    extra_why: str  # why there is no extra cost, "" when there is one
    processes: float = NAN  # the worker processes its CI rests on

    @property
    def measured(self) -> bool:
        return self.status == "ok" and not math.isnan(self.ns)

    @property
    def negative(self) -> bool:
        """Measured cheaper than its base: shown as measured, and flagged."""
        return not math.isnan(self.extra_ns) and self.extra_ns < 0


def _row(summary: pd.DataFrame, case: str) -> pd.Series | None:
    if summary.empty or "case" not in summary:
        return None
    rows = summary[summary["case"] == case]
    return None if rows.empty else rows.iloc[0]


def _figure_of(row: pd.Series | None, key: str) -> float:
    """One number of a row that ran; NaN where it did not, or the cell holds no number."""
    if row is None or row.get("status") != "ok":
        return NAN
    try:
        x = float(row.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return NAN
    return x if math.isfinite(x) else NAN


def _figure(row: pd.Series | None) -> tuple[float, float, float]:
    """A row's median and CI bounds (NaN for what it lacks); NaN unless it ran."""
    return tuple(_figure_of(row, k) for k in ("ns_per_switch", "ci_low", "ci_high"))  # type: ignore[return-value]


def _status(row: pd.Series | None) -> tuple[str, str]:
    if row is None:
        return "absent", "not in this run"
    status = str(row.get("status") or "")
    reason = row.get("reason")
    text = "" if reason is None or (isinstance(reason, float) and math.isnan(reason)) else reason
    return status, str(text)


def _not_measured(case: str, status: str, reason: str) -> str:
    if status == "absent":
        return f"{case} is not in this run"
    return f"{case} {status}" + (f": {reason}" if reason else "")


def rung(spec: RungSpec, summary: pd.DataFrame) -> Rung:
    row = _row(summary, spec.case)
    status, reason = _status(row)
    value, low, high = _figure(row)
    unit = str(row.get("unit") or "switch") if row is not None else "switch"
    base_ns = base_low = base_high = NAN
    extra_why = "" if not math.isnan(value) else "the rung itself was not measured"
    if extra_why:
        pass
    elif spec.base is None:
        extra_why = "the floor: nothing below it" if spec.case == FLOOR else "a rung of its own"
    else:
        base_row = _row(summary, spec.base)
        base_ns, base_low, base_high = _figure(base_row)
        if math.isnan(base_ns):
            extra_why = "its base " + _not_measured(spec.base, *_status(base_row))
    extra = value - base_ns if not extra_why else NAN
    widest = (low - base_high, high - base_low) if not extra_why else (NAN, NAN)
    return Rung(
        spec,
        status,
        reason,
        unit,
        value,
        low,
        high,
        base_ns,
        extra,
        *widest,
        extra_why,
        _figure_of(row, "processes"),
    )


def ladder(summary: pd.DataFrame) -> list[Rung]:
    """Every rung, in order from the floor up, measured or saying why not."""
    return [rung(spec, summary) for spec in RUNGS]


def ladder_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """The ladder as a table (one row per rung), for compare."""
    return pd.DataFrame(
        [
            {
                "case": r.spec.case,
                "base": r.spec.base or "",
                "status": r.status,
                "ns": r.ns,
                "extra_ns": r.extra_ns,
            }
            for r in ladder(summary)
        ]
    )
