"""Claim, its verdicts and the shared helpers → what each claims module builds on.

Every verdict is computed from the run by a rule stated beside it, and every threshold
comes from a definition (a microsecond is 1,000 ns; "2 KiB" is a size stated to the KiB),
never from a run. A claim whose data the folder lacks is *not measured*, with why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

HOLDS = "holds"
QUALIFIED = "holds with a qualification"
DOES_NOT_HOLD = "does not hold here"
NOT_MEASURED = "not measured"
VERDICTS = (HOLDS, QUALIFIED, DOES_NOT_HOLD, NOT_MEASURED)

MICROSECOND_NS = 1000.0
KIB = 1024
MIB = 1024 * KIB
GOROUTINE_START = 2 * KIB  # the claim's own figure
USER_SHARE_MIN = 0.9  # issue 17: a goroutine switch's threads at least 90% in user mode
GOROUTINE_CASE = "go.chan.p1"
# The OS-thread hand-offs, on one CPU and across two: what "a thread switch" is here.
THREAD_HANDOFFS = tuple(
    f"c.{p}.{where}"
    for where in ("same-core", "cross-core")
    for p in ("futex", "condvar", "sem", "eventfd", "pipe.threads")
)


@dataclass(frozen=True)
class Claim:
    claim: str  # the claim, in the project's words
    figure: str  # what this run measured (plain text)
    verdict: str  # one of VERDICTS
    why: str  # the qualification, the reason it does not hold, or why not measured
    rule: str  # how the verdict is computed, and from what
    sources: tuple[str, ...] = field(default=())  # the folder's files it rests on


def not_measured(claim: str, rule: str, why: str, sources: tuple[str, ...]) -> Claim:
    return Claim(claim, "—", NOT_MEASURED, why, rule, sources)


def ns_text(value: float) -> str:
    return f"{value / 1000:,.1f} µs" if value >= 10_000 else f"{value:,.0f} ns"


def size_text(value: float) -> str:
    if value >= MIB:
        return f"{value / MIB:,.1f} MiB"
    return f"{value / KIB:,.1f} KiB" if value >= KIB else f"{value:,.0f} B"


def number(value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def ok_rows(summary: pd.DataFrame, cases: tuple[str, ...]) -> pd.DataFrame:
    if summary.empty:
        return summary
    rows = summary[summary["case"].isin(cases) & (summary["status"] == "ok")]
    return rows[rows["ns_per_switch"].map(number).notna()]
