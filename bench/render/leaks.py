"""leaks.csv → the report's goroutine-leak section.

What a leak costs and which detector caught it.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.measure.leaks import DESCRIPTIONS, NUMGOROUTINE_THRESHOLD, PROFILE_FOLDER
from bench.render import timers
from bench.render.fmt import kib, md, missing, num, number
from bench.results.schema import LEAK_COLUMNS


def _caught(value: object) -> str:
    text = str(value).strip().lower()
    if text in {"true", "1", "1.0"}:
        return "caught"
    if text in {"false", "0", "0.0"}:
        return "not caught"
    return "unavailable"


def _per_call(value: object, unit: object) -> str:
    x = number(value)
    if missing(x):
        return "—"
    noun = "goroutine" if unit == "goroutine" else "object"
    return f"{num(x)} {noun}{'' if x == 1 else 's'}"


def _scenario_table(rows: pd.DataFrame) -> list[str]:
    lines = [
        "| version | left per call | growth per call | heap per leak | stack per leak "
        "| NumGoroutine | goroutine profile | goroutineleak profile | top stack |",
        "|---|---:|---:|---:|---:|---|---|---|---|",
    ]
    for _, row in rows.iterrows():
        if row["status"] != "ok":
            lines.append(f"| {md(row['version'])} | failed: {md(row['reason'])} | | | | | | | |")
            continue
        lines.append(
            f"| {md(row['version'])} | {_per_call(row['leaked_per_iter'], row['unit'])} "
            f"| {num(number(row['slope_per_iter']))} "
            f"| {kib(number(row['heap_bytes_per_leak']))} "
            f"| {kib(number(row['stack_bytes_per_leak']))} "
            f"| {_caught(row['caught_by_numgoroutine'])} | {_caught(row['caught_by_pprof'])} "
            f"| {_caught(row['caught_by_goroutineleak'])} "
            f"| {md(row['top_stack']) if not missing(row['top_stack']) else 'none blocked'} |"
        )
    return lines


def _ticker_lines(leaks: pd.DataFrame) -> list[str]:
    """What was seen of unstopped tickers, in words, from the rows."""
    out = []
    for scenario in ("ticker", "ticker-go123"):
        row = leaks[
            (leaks["scenario"] == scenario)
            & (leaks["version"] == "leaking")
            & (leaks["status"] == "ok")
        ]
        if row.empty:
            continue
        r = row.iloc[0]
        retained, k = number(r["retained_objects"]), number(r["k"])
        if missing(retained) or missing(k):
            continue
        # Each clause counts the tickers it speaks of: those still alive, and the rest,
        # which the collector freed.
        alive = (
            f"{retained:,.0f} of {k:,.0f} unstopped tickers were still alive after "
            "runtime.GC(), though the program held no reference to them: the runtime's "
            "timers kept them"
        )
        freed = k - retained
        if retained <= 0:
            said = f"{freed:,.0f} of {k:,.0f} unstopped tickers were freed by the collector"
        elif freed > 0:
            said = f"{alive}; the other {freed:,.0f} were freed by the collector"
        else:
            said = alive
        out.append(f"- {md(r['godebug'])} ({md(r['go_version'])}): {said}.")
    if out:
        out = ["Unstopped tickers, observed:", "", *out, ""]
    return out


def section_lines(leaks: pd.DataFrame | None) -> list[str]:
    """The report's "Goroutine leaks" section from leaks.csv as bench.results.read reads it
    (text cells, NaN where empty); [] when the folder has no leaks.csv."""
    if leaks is None:
        return []
    leaks = leaks.copy()
    for column in LEAK_COLUMNS:
        if column not in leaks.columns:
            leaks[column] = math.nan
    ok = leaks[leaks["status"] == "ok"]
    versions = ", ".join(md(v) for v in ok["go_version"].dropna().unique()) or "—"
    ks = ", ".join(f"{x:,.0f}" for x in dict.fromkeys(number(v) for v in ok["k"]) if not missing(x))
    lines = [
        "## Goroutine leaks",
        "",
        "Each scenario below was called K times in a leaking and in a fixed version, "
        "each version in a process of its own, then the heap was collected. *Left per "
        "call* is what stayed behind (goroutines, or objects where no goroutine is "
        "involved) divided by K; *growth per call* is the least-squares slope of that "
        "count over checkpoints at K/4, K/2, 3K/4 and K; *heap* and *stack per leak* are "
        "the live heap and goroutine stacks gained, per thing left behind. A fixed "
        "version must show no growth.",
        "",
        f"Go: {versions}; K = {ks or '—'}.",
        "",
        "Caught by: *NumGoroutine*, when runtime.NumGoroutine grows by more than "
        f"{NUMGOROUTINE_THRESHOLD} per call; *goroutine profile*, when one stack of "
        '`pprof.Lookup("goroutine")` holds at least K/2 goroutines; *goroutineleak '
        "profile*, when the runtime's own leak detector (Go 1.26, "
        "GOEXPERIMENT=goroutineleakprofile: writing the profile runs a collection that "
        "finds goroutines blocked on channels no runnable goroutine can reach) reports at "
        "least K/2. *unavailable* means the method could not be tried here, not that it "
        "missed.",
        "",
    ]
    for reason in ok["goroutineleak_reason"].dropna().unique():
        if str(reason).strip():
            lines += [f"goroutineleak profile unavailable: {md(reason)}", ""]
    for scenario in dict.fromkeys(leaks["scenario"].tolist()):
        rows = leaks[leaks["scenario"] == scenario]
        lines += [f"### {md(scenario)}", ""]
        if scenario in DESCRIPTIONS:
            lines += [DESCRIPTIONS[scenario][0].upper() + DESCRIPTIONS[scenario][1:] + ".", ""]
        lines += [*_scenario_table(rows), ""]
    lines += _ticker_lines(leaks)
    lines += timers.section_lines(leaks)
    profiles = [
        p
        for column in ("goroutine_profile", "goroutineleak_profile")
        for p in leaks[column].dropna().tolist()
        if str(p).strip()
    ]
    example = md(profiles[0]) if profiles else "leaks/goroutine-SCENARIO-VERSION.pb.gz"
    lines += [
        "Every run's goroutine profile (and, where available, its goroutineleak profile) is "
        f"saved beside this report in {md(PROFILE_FOLDER)}/ as gzipped protobuf. To see where "
        "the goroutines wait, run `go tool pprof -top FILE` on one, for instance FILE = "
        f"{example} (`-traces` prints every stack with its count; `-http=:8080` opens the "
        "graph in a browser).",
        "",
    ]
    return lines
