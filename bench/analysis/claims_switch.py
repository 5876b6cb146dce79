"""summary.csv, memory.csv and the stack tables → the claims on switches and stacks."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from bench.analysis.claims_base import (
    DOES_NOT_HOLD,
    GOROUTINE_CASE,
    GOROUTINE_START,
    HOLDS,
    KIB,
    MIB,
    MICROSECOND_NS,
    QUALIFIED,
    THREAD_HANDOFFS,
    USER_SHARE_MIN,
    Claim,
    not_measured,
    ns_text,
    number,
    ok_rows,
    size_text,
)
from bench.catalogue.expect import USER_SPACE_MAX

# ---- the switch -----------------------------------------------------------------


def thread_microseconds(summary: pd.DataFrame) -> Claim:
    claim = "A thread switch costs microseconds."
    rule = (
        "Holds if every OS-thread hand-off that ran (futex, condvar, semaphore, eventfd and "
        "pipe between threads, on one CPU and across two) costs at least "
        f"{MICROSECOND_NS:,.0f} ns per switch (a microsecond); with a qualification if only "
        "some do; does not hold if none do."
    )
    sources = ("summary.csv",)
    rows = ok_rows(summary, THREAD_HANDOFFS)
    if rows.empty:
        return not_measured(claim, rule, "no OS-thread hand-off case ran", sources)
    values = dict(zip(rows["case"], rows["ns_per_switch"].map(number), strict=True))
    cheap, dear = min(values, key=values.__getitem__), max(values, key=values.__getitem__)
    figure = (
        f"{len(values)} thread hand-offs: from {ns_text(values[cheap])} ({cheap}) "
        f"to {ns_text(values[dear])} ({dear}) per switch"
    )
    under = sorted(c for c, v in values.items() if v < MICROSECOND_NS)
    if not under:
        return Claim(claim, figure, HOLDS, "", rule, sources)
    if len(under) == len(values):
        return Claim(claim, figure, DOES_NOT_HOLD, "every one is under 1 µs", rule, sources)
    return Claim(
        claim, figure, QUALIFIED, f"not all: under 1 µs here: {', '.join(under)}", rule, sources
    )


def goroutine_user_space(summary: pd.DataFrame, timesplit: pd.DataFrame | None) -> Claim:
    claim = "A goroutine switch stays in user space."
    rule = (
        f"Holds if {GOROUTINE_CASE} costs at most {USER_SPACE_MAX:g} OS context switches per "
        "switch (getrusage over its timed region: fewer than one per 100 switches, the "
        "suite's bound for a switch that never enters the scheduler) and, where the run "
        f"split its time (timesplit.csv), its threads spend at least {USER_SHARE_MIN:.0%} "
        "of their CPU time in user mode; with a qualification if the first holds and the "
        "second does not; does not hold if it needs more OS switches."
    )
    sources = ("summary.csv", "timesplit.csv")
    rows = ok_rows(summary, (GOROUTINE_CASE,))
    os_ctx = number(rows.iloc[0].get("os_ctx_switches_per_switch")) if not rows.empty else math.nan
    if math.isnan(os_ctx):
        why = f"{GOROUTINE_CASE} did not run" if rows.empty else "its OS switches were unavailable"
        return not_measured(claim, rule, why, sources)
    figure = f"{os_ctx:.2g} OS context switches per switch ({GOROUTINE_CASE})"
    share = user_share(timesplit)
    if not math.isnan(share):
        figure += f"; {share:.1%} of its threads' CPU time in user mode"
    if os_ctx > USER_SPACE_MAX:
        return Claim(claim, figure, DOES_NOT_HOLD, "it enters the scheduler", rule, sources)
    if not math.isnan(share) and share < USER_SHARE_MIN:
        why = f"no OS switch, but {1 - share:.0%} of its CPU time is in the kernel"
        return Claim(claim, figure, QUALIFIED, why, rule, sources)
    return Claim(claim, figure, HOLDS, "", rule, sources)


def user_share(timesplit: pd.DataFrame | None) -> float:
    """go.chan.p1's user share from timesplit.csv, where the run made one; NaN otherwise."""
    if timesplit is None or timesplit.empty or not {"case", "user_share"} <= set(timesplit):
        return math.nan
    rows = timesplit[timesplit["case"] == GOROUTINE_CASE]
    return math.nan if rows.empty else number(rows.iloc[0]["user_share"])


# ---- stacks -----------------------------------------------------------------------


def goroutine_stack(memory: pd.DataFrame, growth: pd.DataFrame | None) -> Claim:
    claim = "A goroutine starts with a 2 KiB stack that grows."
    rule = (
        "Starts with 2 KiB if the stack in use per parked goroutine (memory.csv, at the "
        "largest count measured) rounds to 2 KiB at the claim's precision, a KiB "
        f"({(GOROUTINE_START - KIB / 2) / KIB:g}–{(GOROUTINE_START + KIB / 2) / KIB:g} "
        "KiB); grows if a goroutine recursing deeper adds stack in use (stack_growth.csv). "
        "Holds if both; with a qualification if growth was not measured or reached a limit; "
        "does not hold if it starts with another size or does not grow."
    )
    sources = ("memory.csv", "stack_growth.csv")
    rows = pd.DataFrame() if memory.empty else memory[memory["kind"] == "goroutine"]
    if not rows.empty:
        rows = rows[rows["status"] == "ok"].dropna(subset=["stack_bytes_per_unit", "created"])
    if rows.empty:
        return not_measured(claim, rule, "the run has no goroutine memory (memory.csv)", sources)
    top = rows.sort_values("created").iloc[-1]
    start = number(top["stack_bytes_per_unit"])
    figure = f"{size_text(start)} of stack per goroutine at {int(top['created']):,} parked"
    grown = pd.DataFrame() if growth is None else growth[growth["status"] == "ok"]
    limits = pd.DataFrame() if growth is None else growth[growth["status"] == "limit"]
    deltas = grown["stack_inuse_delta_bytes"].map(number).dropna() if not grown.empty else []
    if len(deltas):
        figure += f"; grew by up to {size_text(max(deltas))} when recursing deeper"
    if not GOROUTINE_START - KIB / 2 <= start < GOROUTINE_START + KIB / 2:
        return Claim(
            claim, figure, DOES_NOT_HOLD, f"it starts with {size_text(start)}", rule, sources
        )
    if not len(deltas):
        return Claim(claim, figure, QUALIFIED, "its growth was not measured", rule, sources)
    if max(deltas) <= 0:
        return Claim(claim, figure, DOES_NOT_HOLD, "deeper recursion added no stack", rule, sources)
    if not limits.empty:
        cap = number(limits.iloc[0].get("max_stack_bytes"))
        cap_text = f"one set to {size_text(cap)}" if not math.isnan(cap) else "it"
        why = (
            "it grows only up to the runtime's maximum stack (debug.SetMaxStack): past "
            f"{cap_text} the process stopped with a stack overflow"
        )
        return Claim(claim, figure, QUALIFIED, why, rule, sources)
    return Claim(claim, figure, HOLDS, "", rule, sources)


def limit_bytes(text: str) -> float:
    """A ulimit -s as the memory step names it ("8MiB", "256KiB") → bytes; NaN if unlimited."""
    for suffix, scale in (("MiB", MIB), ("KiB", KIB)):
        if text.endswith(suffix):
            return number(text[: -len(suffix)]) * scale
    return math.nan


def thread_stack(host: dict[str, Any], memory: pd.DataFrame, stacks: pd.DataFrame | None) -> Claim:
    claim = "A thread reserves the `ulimit -s` stack (8 MiB by default)."
    rule = (
        "Holds if, under every finite `ulimit -s` the run tried, a new thread's stack "
        "(thread_stacks.csv) is that limit and this machine's soft limit (host.json) is "
        "8 MiB. Qualified where the reservation is address space rather than resident "
        "memory (resident per thread, memory.csv, under half the stack), where "
        "`unlimited` gives another size, or where this machine's limit is not 8 MiB."
    )
    sources = ("thread_stacks.csv", "memory.csv", "host.json")
    rows = pd.DataFrame() if stacks is None else stacks[stacks["status"] == "ok"]
    if rows.empty:
        return not_measured(
            claim, rule, "the run has no thread stacks (thread_stacks.csv)", sources
        )
    finite = [
        (limit_bytes(str(r.ulimit_s)), number(r.thread_stack_bytes)) for r in rows.itertuples()
    ]
    wrong = [(lim, got) for lim, got in finite if not math.isnan(lim) and got != lim]
    if wrong:
        lim, got = wrong[0]
        why = f"under ulimit -s {size_text(lim)} a thread got {size_text(got)}"
        return Claim(claim, "—", DOES_NOT_HOLD, why, rule, sources)
    soft = number((host.get("ulimit_s") or {}).get("soft_bytes"))
    figure = ", ".join(
        f"{size_text(got)} under {size_text(lim)}" for lim, got in finite if not math.isnan(lim)
    )
    qualifications = []
    threads = pd.DataFrame() if memory.empty else memory[memory["kind"] == "thread"]
    if not threads.empty:
        at8 = threads[(threads["ulimit_s"] == "8MiB") & (threads["status"] == "ok")]
        if not at8.empty:
            row = at8.sort_values("created").iloc[-1]
            rss, virt = number(row["rss_bytes_per_unit"]), number(row["virtual_bytes_per_unit"])
            figure += f"; per thread at 8 MiB: {size_text(virt)} virtual, {size_text(rss)} resident"
            if rss < virt / 2:
                qualifications.append("it is reserved address space, not resident memory")
    for r in rows.itertuples():
        if str(r.ulimit_s) == "unlimited":
            got = number(r.thread_stack_bytes)
            qualifications.append(f"with ulimit -s unlimited a thread gets {size_text(got)}")
    if math.isnan(soft):
        qualifications.append("this machine's ulimit -s was not recorded")
    elif soft != 8 * MIB:
        qualifications.append(f"this machine's ulimit -s is {size_text(soft)}")
    else:
        figure += f"; ulimit -s here: {size_text(soft)}"
    verdict = QUALIFIED if qualifications else HOLDS
    return Claim(claim, figure, verdict, "; ".join(qualifications), rule, sources)
