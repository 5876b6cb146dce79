"""system.csv, threads.csv, summary.csv → the claim that vmstat and pidstat show the switching."""

from __future__ import annotations

import math

import pandas as pd

from bench.analysis.claims_base import (
    DOES_NOT_HOLD,
    GOROUTINE_CASE,
    HOLDS,
    QUALIFIED,
    Claim,
    not_measured,
    number,
)
from bench.catalogue.expect import USER_SPACE_MAX

# "Shows the switching": during the thread cases the counter reads at least twice what it
# reads during the goroutine cases, so most of what it counts then is the cases' switching.
SHOWS_FACTOR = 2.0


def counter_rates(table: pd.DataFrame | None, count: str, key: list[str]) -> pd.DataFrame:
    """A cumulative counter sampled once a second → its rate per second between samples,
    with the case running then. With a key (threads.csv: pid, tid) the counter is each
    thread's own, summed over threads; a thread's first sample counts from zero, since a
    benchmark thread is born in the run and most live under a second (one sample)."""
    empty = pd.DataFrame(columns=["t_s", "case", "rate"])
    if table is None or table.empty:
        return empty
    df = table.assign(case=table["case"].fillna("").astype(str)).sort_values("t_s")
    if key:
        df = df.assign(delta=df.groupby(key)[count].diff().fillna(df[count]))
    else:
        df = df.assign(delta=df[count].diff())
    per_time = df.groupby("t_s", as_index=False).agg(case=("case", "last"), delta=("delta", "sum"))
    dt = per_time["t_s"].diff()
    rates = per_time.assign(rate=per_time["delta"] / dt)[dt > 0]
    return rates[["t_s", "case", "rate"]] if len(rates) else empty


def _kinds(summary: pd.DataFrame) -> tuple[set[str], set[str]]:
    """The thread hand-off cases (C, one OS switch or more expected per switch) and the
    goroutine cases (Go, none expected) that ran."""
    if summary.empty:
        return set(), set()
    ok = summary[summary["status"] == "ok"]
    expected = ok["expected_os_ctx_switches_per_switch"].map(number)
    threads = set(ok[ok["case"].str.startswith("c.") & (expected >= 1)]["case"])
    goroutines = set(ok[ok["case"].str.startswith("go.") & (expected == 0)]["case"])
    return threads, goroutines


def _medians(rates: pd.DataFrame, threads: set[str], goroutines: set[str]) -> tuple[float, float]:
    during = [rates[rates["case"].isin(kind)]["rate"] for kind in (threads, goroutines)]
    return tuple(float(d.median()) if len(d) else math.nan for d in during)  # type: ignore[return-value]


def vmstat_shows(
    summary: pd.DataFrame, system: pd.DataFrame | None, threads: pd.DataFrame | None
) -> Claim:
    claim = "`vmstat`'s cs and `pidstat -w` show the switching."
    rule = (
        "The machine's context switches per second (system.csv, vmstat's cs) and the run's "
        "threads' (threads.csv, pidstat -w's cswch/s + nvcswch/s), median over the seconds "
        "of the thread hand-off cases against those of the goroutine cases. Holds if the "
        f"thread cases read at least {SHOWS_FACTOR:g}× the goroutine cases (most of what "
        "is counted then is their switching); with a qualification where a goroutine "
        f"switch does not show (under {USER_SPACE_MAX:g} counted per {GOROUTINE_CASE} "
        "switch) or pidstat's view was not recorded; does not hold if the thread cases "
        "do not stand out."
    )
    sources = ("system.csv", "threads.csv", "summary.csv")
    thread_cases, go_cases = _kinds(summary)
    vm = counter_rates(system, "ctxt", [])
    vm_thread, vm_go = _medians(vm, thread_cases, go_cases)
    if math.isnan(vm_thread) or math.isnan(vm_go):
        why = "needs system.csv seconds during both thread hand-off and goroutine cases"
        return not_measured(claim, rule, why, sources)
    figure = f"vmstat cs: {vm_thread:,.0f}/s in thread cases, {vm_go:,.0f}/s in goroutine cases"
    shows = vm_thread >= SHOWS_FACTOR * vm_go
    qualifications = []
    if threads is not None and not threads.empty:
        per_thread = threads.assign(count=threads["voluntary"] + threads["nonvoluntary"])
        pid = counter_rates(per_thread, "count", ["pid", "tid"])
        pid_thread, pid_go = _medians(pid, thread_cases, go_cases)
        if not (math.isnan(pid_thread) or math.isnan(pid_go)):
            figure += f"; pidstat -w: {pid_thread:,.0f}/s against {pid_go:,.0f}/s"
            shows = shows and pid_thread >= SHOWS_FACTOR * pid_go
        else:
            qualifications.append("pidstat's view has no seconds of both kinds")
    else:
        qualifications.append("pidstat's per-thread view (threads.csv) was not recorded")
    if not shows:
        return Claim(
            claim, figure, DOES_NOT_HOLD, "the thread cases do not stand out", rule, sources
        )
    go = summary[(summary["case"] == GOROUTINE_CASE) & (summary["status"] == "ok")]
    go_ns = number(go.iloc[0]["ns_per_switch"]) if not go.empty else math.nan
    during_go = vm[vm["case"] == GOROUTINE_CASE]["rate"]
    if not math.isnan(go_ns) and len(during_go):
        switches = 1e9 / go_ns
        counted = float(during_go.median())
        figure += (
            f"; during {GOROUTINE_CASE}: {counted:,.0f} cs/s while it switched {switches:,.0f}/s"
        )
        if counted < USER_SPACE_MAX * switches:
            qualifications.insert(
                0, "they show OS-thread switches only: goroutine switches never reach them"
            )
    verdict = QUALIFIED if qualifications else HOLDS
    return Claim(claim, figure, verdict, "; ".join(qualifications), rule, sources)
