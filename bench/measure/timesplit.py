"""A profile's time-split plan → timesplit.csv: one accounted run per case, its time split.

The step beside the cases that says where the time of one switch goes. Each case gets
one run outside the throughput step's timed samples (so those are not slowed), long
enough for tick-based accounting to resolve (the profile's timesplit_region_s, after a
short run that sizes it), with the accounting on (bench.native.accounting). Which
cases:

- "headline" (default profile): every placement of the thread and process cases of
  the headline families below, and the goroutine cases below: the families the
  report's answer rests on, in about 20 runs of 0.4 s, so the step stays near 15 s.
- "every" (full profile): every C ring case on one or two CPUs (the spread placements
  run many rings through sb_ring_spread, which is not accounted) and the goroutine
  cases below.

A case that cannot run here (too few CPUs, affinity refused) or whose run fails gets a
row saying why, its figures empty.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import pandas as pd

from bench.catalogue.cases import Case, all_cases
from bench.catalogue.placement import skip_reason, usable_cpus
from bench.native.accounting import CPU_FIELDS, Accounts, accounted_c, accounted_go, user_hz
from bench.native.bridge import CBody, GoBody, NativeError, TimedRun, runner_for
from bench.native.build import Artifacts
from bench.results.schema import TIMESPLIT_MEASURED

if TYPE_CHECKING:  # session imports steps, which imports this module
    pass

HEADLINE_FAMILIES = (
    "c.condvar",
    "c.condvar.signal-unlocked",
    "c.futex",
    "c.pipe.threads",
    "c.pipe.procs",
    "c.yield",
)
PLACEMENTS = ("same-core", "cross-core", "unpinned")
GO_CASES = ("go.chan.p1", "go.chan.p2", "go.chan.locked.p1")
PLANS = ("headline", "every")
PROBE_S = 0.02  # the sizing run doubles its ops until it takes this long
FIRST_OPS = 256
# An accounted run shorter than this share of the region aimed at (the machine was
# slower while sizing than while accounting) is run again, sized by itself, this often.
SHORT_SHARE = 0.5
RETRIES = 2


def cases_for(plan: str) -> list[Case]:
    """The cases a plan accounts, in catalogue order, goroutine cases last."""
    if plan not in PLANS:
        raise ValueError(f"time-split plan {plan!r} is not one of {', '.join(PLANS)}")
    rings = [
        c
        for c in all_cases()
        if c.lang == "c" and c.c_entry == "ring" and c.placement in PLACEMENTS
    ]
    if plan == "headline":
        wanted = {f"{f}.{p}" for f in HEADLINE_FAMILIES for p in PLACEMENTS}
        rings = [c for c in rings if c.id in wanted]
    by_id = {c.id: c for c in all_cases()}
    return rings + [by_id[i] for i in GO_CASES if i in by_id]


def _sized_ops(body: CBody | GoBody, region_s: float) -> int:
    """Ops for a run of about region_s: a timed run doubled until it takes PROBE_S,
    then scaled."""
    ops = FIRST_OPS
    while True:
        run = body(ops)
        run.check()
        if run.elapsed_ns >= PROBE_S * 1e9 or ops >= 1 << 30:
            return max(1, math.ceil(ops * region_s * 1e9 / run.elapsed_ns))
        ops *= 2


def _row(case: Case, run: TimedRun, acc: Accounts, cpu_view: str) -> dict[str, object]:
    cpu = acc.cpu_ns or {}
    switches = run.ops * case.switches_per_op

    def maybe(value: int | None) -> object:
        return math.nan if value is None else value

    return {
        "status": "ok",
        "reason": "",
        "cpu_view": cpu_view,
        "cpus": " ".join(map(str, acc.cpus)),
        "ncpus": len(acc.cpus),
        "ops": run.ops,
        "switches": switches,
        "ns_per_switch": run.elapsed_ns / switches,
        "region_ns": acc.region_ns,
        "threads": acc.threads,
        "threads_born": acc.threads_born,
        "rusage_source": acc.rusage_source,
        "user_hz": user_hz(),
        "thread_user_ns": maybe(acc.user_ns),
        "thread_kernel_ns": maybe(acc.kernel_ns),
        "thread_oncpu_ns": maybe(acc.oncpu_ns),
        "runq_wait_ns": maybe(acc.runq_wait_ns),
        "timeslices": maybe(acc.timeslices),
        **{f"cpu_{name}_ns": cpu.get(name, math.nan) for name in CPU_FIELDS},
        "others_oncpu_ns": maybe(acc.others_oncpu_ns),
        "others_tasks": acc.others_tasks,
        "online_cpus": acc.online_cpus,
        "unavailable": "; ".join(f"{k}: {v}" for k, v in acc.unavailable.items()),
    }


def _accounted(body: CBody | GoBody, ops: int) -> tuple[TimedRun, Accounts, str]:
    """One accounted run, and which CPUs' view it has (pinned, or the affinity's)."""
    if isinstance(body, CBody):
        pinned = body.cpu_a >= 0
        cpus = sorted({body.cpu_a, body.cpu_b}) if pinned else usable_cpus()
        run, acc = accounted_c(body, ops, cpus)
        return run, acc, "pinned" if pinned else "affinity"
    run, acc = accounted_go(body, ops)
    return run, acc, "affinity"


def account_case(case: Case, artifacts: Artifacts, region_s: float) -> dict[str, object]:
    """One case's row (TIMESPLIT_MEASURED): measured, or why not."""
    base: dict[str, object] = {"case": case.id, "lang": case.lang, "placement": case.placement}
    t0 = time.monotonic()
    why = skip_reason(case, usable_cpus())
    if why:
        return {**base, "status": "skipped", "reason": why, "wall_s": 0.0}
    body = runner_for(case, artifacts)
    try:
        ops = _sized_ops(body, region_s)
        for _ in range(RETRIES + 1):
            run, acc, view = _accounted(body, ops)
            run.check()
            if run.elapsed_ns >= SHORT_SHARE * region_s * 1e9:
                break
            # Too short for the ticks to resolve: sized again by this run.
            ops = max(ops + 1, math.ceil(ops * region_s * 1e9 / max(run.elapsed_ns, 1)))
    except NativeError as e:
        reason = " ".join(str(e).split())
        return {**base, "status": "failed", "reason": reason, "wall_s": time.monotonic() - t0}
    finally:
        body.close()
    return {**base, **_row(case, run, acc, view), "wall_s": time.monotonic() - t0}


def measure(artifacts: Artifacts, plan: str, region_s: float) -> pd.DataFrame:
    """Every case of the plan, accounted: what was measured (TIMESPLIT_MEASURED); the
    per-switch parts and the checks are derived from it by bench.analysis.timesplit."""
    rows = [account_case(c, artifacts, region_s) for c in cases_for(plan)]
    return pd.DataFrame(rows).reindex(columns=TIMESPLIT_MEASURED)
