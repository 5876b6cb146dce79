"""summary.csv rows → the report's counters section.

(OS context switches and perf counters per switch).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from bench.render.cells import is_sweep
from bench.render.fmt import code
from bench.render.fmt import md as _md
from bench.render.fmt import num as _num


def counter_section(summary: pd.DataFrame, host: dict[str, Any]) -> list[str]:
    counters = host.get("counters") or {}
    hardware = ("cycles", "instructions", "branch_misses", "cache_misses")
    have_hw = any(
        isinstance(counters.get(n), dict) and counters[n].get("available") for n in hardware
    )
    lines = ["## Counters per switch", ""]
    if not have_hw:
        reason = (
            (counters.get("cycles") or {}).get("reason")
            if isinstance(counters.get("cycles"), dict)
            else None
        )
        lines += [
            f"This machine exposes no hardware counters ({_md(reason or 'not probed')}); "
            "the software counters are shown.",
            "",
        ]
    cs = counters.get("context_switches")
    if isinstance(cs, dict) and not cs.get("available"):
        lines += [
            f"perf_event_open was refused ({_md(cs.get('reason'))}): the perf counters "
            "are unavailable. The OS context switches come from getrusage, as they do "
            "wherever getrusage can be read.",
            "",
        ]
    columns = [
        ("OS ctx switches", "os_ctx_switches_per_switch", 3),
        ("source", "os_ctx_source", 0),
        ("perf context-switches", "context_switches_per_switch", 3),
        ("CPU migrations", "cpu_migrations_per_switch", 2),
        ("task-clock ns", "task_clock_ns_per_switch", 3),
        ("page faults", "page_faults_per_switch", 2),
        ("slowdown while counting", "perf_overhead", 3),
    ]
    if have_hw:
        columns += [
            ("cycles", "cycles_per_switch", 4),
            ("instructions", "instructions_per_switch", 4),
            ("IPC", "ipc", 2),
            ("branch misses", "branch_misses_per_switch", 2),
            ("cache misses", "cache_misses_per_switch", 2),
        ]
    ok = summary[(summary["status"] == "ok") & ~is_sweep(summary)].sort_values("ns_per_switch")
    lines += [
        "| case | " + " | ".join(name for name, _, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for _, row in ok.iterrows():
        cells = [
            _md(row[col]) if digits == 0 else _num(row[col], digits) for _, col, digits in columns
        ]
        lines.append(f"| {code(row['case'])} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Each figure is per switch (or per the case's unit), summed over every thread "
        "of the benchmark over the timed region only. The perf counters come from one extra "
        "run per worker process with them switched on, not from the timed samples: an "
        "active per-thread perf counter makes every context switch dearer, and *slowdown "
        "while counting* (that run's ns per switch over the timed median) shows by how "
        "much; counting can even change what it counts (a slower thread may find its turn "
        "already given and not sleep), which is why the OS switches column comes from "
        "getrusage over the timed samples where it can. *unavailable* means the counter "
        "could not be read here, never that it was 0.",
        "",
    ]
    overheads = pd.to_numeric(ok["perf_overhead"], errors="coerce")
    below = ok[overheads < 1]
    if not below.empty:
        lines += [
            f"*Slowdown while counting* is below 1 in {len(below)} of {overheads.notna().sum()} "
            "cases (" + ", ".join(code(c) for c in below["case"]) + "). The counted run is a "
            "separate run, and below 1 means only that it happened to be faster than the timed "
            "samples: the machine drifted between the two runs, or counting changed the path "
            "a switch took (a slower thread may find its turn already given and not sleep). "
            "It is not a speed-up caused by counting.",
            "",
        ]
    return lines
