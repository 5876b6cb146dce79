"""A run folder -> report.md and the figures. Reads only the folder's files,
so a report can be rebuilt anywhere with `switchbench report RUN_DIR`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt
import pandas as pd

from bench import analyse, compare, html, leaks, overhead
from bench import folder as folder_files
from bench.fmt import code
from bench.fmt import kib as _kib
from bench.fmt import md as _md
from bench.fmt import ns as _ns
from bench.fmt import num as _num

FIGURE_STEM = "ns_per_switch"
GOROUTINE_CASE = "go.chan.p1"
THREAD_CASE = "c.condvar.same-core"
LANG_COLOURS = {"go": "#00add8", "c": "#d1495b"}
GROUP_COLOURS = ("#00add8", "#d1495b", "#9e9e9e")


def _ci(row: pd.Series) -> str:
    if math.isnan(row["ci_low"]):
        return "—"
    return f"{_ns(row['ci_low'])} – {_ns(row['ci_high'])}"


def _is_sweep(summary: pd.DataFrame) -> pd.Series:
    return summary["sweep"] != ""


def _per_unit(row: pd.Series) -> str:
    """A cell's figure with its unit, when the case's unit is not a switch."""
    unit = row.get("unit", "switch")
    text = _ns(row["ns_per_switch"])
    return text if unit in ("switch", None) or unit != unit else f"{text} per {unit}"


def _save(fig: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    fig.tight_layout()
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.svg"]
    for path in paths:
        fig.savefig(path, dpi=120)
    plt.close(fig)
    return paths


def plot_sweep(summary: pd.DataFrame, sweep: str, out_dir: Path) -> list[Path]:
    """ns per switch against the swept value, one line for goroutines, one for threads."""
    ok = summary[(summary["status"] == "ok") & (summary["sweep"] == sweep)]
    if ok.empty:
        return []
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for lang, label in (("go", "goroutines"), ("c", "threads")):
        mine = ok[ok["case"].str.startswith(f"{lang}.")].sort_values("sweep_x")
        if mine.empty:
            continue
        x = mine["sweep_x"].to_numpy(dtype=float)
        if sweep == "ring":
            x = x / 1024
        y = mine["ns_per_switch"].to_numpy()
        err = [
            (mine["ns_per_switch"] - mine["ci_low"]).fillna(0).clip(lower=0).to_numpy(),
            (mine["ci_high"] - mine["ns_per_switch"]).fillna(0).clip(lower=0).to_numpy(),
        ]
        ax.errorbar(
            x,
            y,
            yerr=err,
            fmt="o-",
            color=LANG_COLOURS[lang],
            capsize=3,
            label=label,
            markeredgecolor="black",
        )
    ax.set_yscale("log")
    if sweep == "pairs":
        ax.set_xscale("log", base=2)
        ax.set_xlabel("independent ping-pong pairs running at once")
        ax.set_title("Scaling: ns per switch as pairs are added")
    else:
        ax.set_xscale("symlog", base=2, linthresh=16)
        ax.set_xlabel("working set each context touches per turn (KiB)")
        ax.set_title("The cache cost of a switch: a ring of contexts")
    ax.set_ylabel("ns per switch (median, 95% CI)")
    ax.grid(which="both", alpha=0.3)
    ax.legend()
    return _save(fig, out_dir, f"sweep_{sweep}")


def plot_ns_per_switch(summary: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Bars of median ns per switch with their 95% CIs, log scale, cheapest at the top."""
    ok = summary[(summary["status"] == "ok") & ~_is_sweep(summary)]
    ok = ok.sort_values("ns_per_switch", ascending=False)
    if ok.empty:
        return []
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.32 * len(ok)))
    y = list(range(len(ok)))
    medians = ok["ns_per_switch"].to_numpy()
    lows = (ok["ns_per_switch"] - ok["ci_low"]).fillna(0).clip(lower=0).to_numpy()
    highs = (ok["ci_high"] - ok["ns_per_switch"]).fillna(0).clip(lower=0).to_numpy()
    # Points, not bars: on a log axis a bar's length from an arbitrary floor means nothing.
    groups = {
        "goroutines": ok["case"].str.startswith("go."),
        "OS threads / processes": ok["case"].str.startswith("c.")
        & (ok["expected_os_ctx_switches_per_switch"] > 0),
        "C in one thread (ucontext, baselines)": ok["case"].str.startswith("c.")
        & (ok["expected_os_ctx_switches_per_switch"] == 0),
    }
    for (label, mask), colour in zip(groups.items(), GROUP_COLOURS, strict=True):
        idx = [i for i, m in enumerate(mask) if m]
        if idx:
            ax.errorbar(
                medians[idx],
                [y[i] for i in idx],
                xerr=[lows[idx], highs[idx]],
                fmt="o",
                color=colour,
                ecolor="black",
                capsize=4,
                markersize=8,
                markeredgecolor="black",
                label=label,
            )
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_yticks(y, ok["case"])
    ax.set_xscale("log")
    ax.set_xlabel("ns per switch (median, 95% CI; log scale)")
    for i, (_, row) in enumerate(ok.iterrows()):
        ctx = row["os_ctx_switches_per_switch"]
        label = f"  {_per_unit(row)}, OS ctx/{row.get('unit', 'switch')} {_num(ctx, 2)}"
        ax.text(
            row["ci_high"] if not math.isnan(row["ci_high"]) else row["ns_per_switch"],
            i,
            label,
            va="center",
            fontsize=8,
        )
    ax.set_xlim(right=ax.get_xlim()[1] * 8)
    ax.set_title("One switch (or spawn, or call), cheapest at the top")
    return _save(fig, out_dir, FIGURE_STEM)


def _headline(summary: pd.DataFrame) -> list[str]:
    ok = summary[summary["status"] == "ok"].set_index("case")
    lines = []
    for case, kind in ((GOROUTINE_CASE, "goroutine"), (THREAD_CASE, "thread")):
        if case in ok.index:
            row = ok.loc[case]
            lines.append(
                f"- One {kind} switch (`{case}`): **{_ns(row['ns_per_switch'])}** "
                f"(95% CI {_ci(row)}), {_num(row['os_ctx_switches_per_switch'])} OS context "
                f"switches per switch."
            )
        else:
            lines.append(f"- One {kind} switch (`{case}`): not measured in this run.")
    if GOROUTINE_CASE in ok.index and THREAD_CASE in ok.index:
        ratio = ok.loc[THREAD_CASE, "ns_per_switch"] / ok.loc[GOROUTINE_CASE, "ns_per_switch"]
        lines.append(
            f"- On this machine a thread switch costs **{ratio:.1f}×** a goroutine switch."
        )
    return lines


def _clock_text(clock: object) -> str | None:
    ghz = clock.get("ghz") if isinstance(clock, dict) else None
    return f"{ghz:.2f} GHz" if isinstance(ghz, int | float) and math.isfinite(ghz) else None


def _host_lines(host: dict[str, Any]) -> list[str]:
    virt = host.get("virtualisation") or {}
    versions = host.get("versions") or {}
    stack = (host.get("ulimit_s") or {}).get("soft_bytes")
    stack_text = stack if isinstance(stack, str) else f"{stack // 1024} KiB" if stack else None
    facts = [
        ("CPU", host.get("cpu_model")),
        (
            "logical CPUs (usable)",
            f"{host.get('logical_cpus')} ({len(host.get('usable_cpus') or [])})",
        ),
        ("physical cores", host.get("physical_cores")),
        ("caches (CPU 0)", host.get("caches")),
        ("SMT active", (host.get("smt") or {}).get("active")),
        ("clock, measured", _clock_text(host.get("clock"))),
        ("kernel", host.get("kernel")),
        ("OS", host.get("os")),
        ("hypervisor", virt.get("vm") or ("yes" if virt.get("hypervisor_flag") else "none seen")),
        ("container", virt.get("container") or "none seen"),
        ("CPU frequency governor", host.get("cpufreq_governor") or "not exposed"),
        ("mitigations", compare.mitigation_summary(host)),
        ("perf_event_paranoid", host.get("perf_event_paranoid")),
        ("ulimit -s", stack_text),
        ("Go", versions.get("go")),
        ("gcc", versions.get("gcc")),
        ("Python / pyperf", f"{versions.get('python')} / {versions.get('pyperf')}"),
    ]
    return ["| | |", "|---|---|"] + [f"| {_md(k)} | {_md(v)} |" for k, v in facts]


def _images(paths: list[Path], alt: str) -> list[str]:
    return [f"![{alt}]({p.name})\n" for p in paths if p.suffix == ".png"]


SWEEP_TEXT = {
    "pairs": (
        "Scaling: independent pairs at once",
        "N ping-pong pairs run at the same time; the figure is the wall time of the run "
        "divided by every switch of every pair, so it falls when pairs overlap on several "
        "CPUs and rises when the scheduler struggles with many runnable threads.",
        "pairs",
    ),
    "ring": (
        "The cache cost of a switch: a ring of contexts",
        "A ring of contexts passes one token; each touches its own working set (one write "
        "per 64-byte line) at every turn, as lmbench's lat_ctx does. The figure includes "
        "that touching, so the rise with the working set is the cost of refilling caches "
        "that the other contexts evicted.",
        "working set",
    ),
}


def system_rates(folder: Path) -> pd.DataFrame:
    """system.csv as rates: context switches per second between consecutive samples."""
    path = folder / "system.csv"
    if not path.is_file():
        return pd.DataFrame()
    sys_df = pd.read_csv(path, keep_default_na=False).sort_values("t_s")
    if len(sys_df) < 2:
        return pd.DataFrame()
    dt = sys_df["t_s"].diff()
    rates = pd.DataFrame(
        {
            "t_s": sys_df["t_s"],
            "case": sys_df["case"].astype(str),
            "ctxt_per_s": sys_df["ctxt"].diff() / dt,
            "forks_per_s": sys_df["processes"].diff() / dt,
        }
    )
    return rates[dt > 0]


def plot_system(folder: Path, run: dict[str, Any]) -> list[Path]:
    rates = system_rates(folder)
    if rates.empty:
        return []
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for case_id, span in (run.get("cases") or {}).items():
        start, end = span.get("start_s"), span.get("end_s")
        if isinstance(start, int | float) and isinstance(end, int | float) and end > start:
            colour = LANG_COLOURS.get(str(case_id).split(".")[0], "grey")
            ax.axvspan(start, end, color=colour, alpha=0.15, lw=0)
    ax.plot(rates["t_s"], rates["ctxt_per_s"], color="black", lw=1)
    ax.set_yscale("symlog", linthresh=1000)
    ax.set_xlabel("seconds into the run")
    ax.set_ylabel("context switches / s (whole machine)")
    ax.set_title("System context switches over the run (/proc/stat ctxt, as vmstat's cs)")
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(color=LANG_COLOURS["go"], alpha=0.3, label="Go cases"),
            Patch(color=LANG_COLOURS["c"], alpha=0.3, label="C cases"),
        ],
        loc="upper left",
        fontsize=8,
    )
    ax.grid(alpha=0.3)
    return _save(fig, folder, "system_ctxt")


def _system_section(folder: Path, figures: dict[str, list[Path]]) -> list[str]:
    rates = system_rates(folder)
    if rates.empty:
        return []
    lines = [
        "## The system view: what vmstat and pidstat would show",
        "",
        "The whole machine's context switches per second (`/proc/stat` ctxt, the `cs` "
        "column of `vmstat 1`) sampled once a second over the run; the shaded spans are "
        "the cases.",
        "",
        *_images(figures.get("system", []), "system context switches"),
    ]
    during = rates[rates["case"] != ""]
    fam = during.assign(lang=during["case"].str.split(".").str[0]).groupby("lang")["ctxt_per_s"]
    medians = fam.median()
    if {"go", "c"} <= set(medians.index):
        lines += [
            f"Median while Go cases ran: **{medians['go']:,.0f}** switches/s; while C "
            f"cases ran: **{medians['c']:,.0f}** switches/s.",
            "",
        ]
    lines += [
        "Each benchmark thread's own voluntary and non-voluntary switches, as "
        "`pidstat -w` reads them from `/proc/<pid>/task/<tid>/status`, are in "
        "threads.csv, sampled at the same times (cumulative counts; a worker process "
        "often lives less than a second, so most show one sample).",
        "",
    ]
    return lines


def plot_memory(folder: Path) -> list[Path]:
    """Bytes per parked unit against how many are parked (log scales)."""
    path = folder / "memory.csv"
    if not path.is_file():
        return []
    mem = pd.read_csv(path, keep_default_na=False, na_values=[""])
    ok = mem[mem["status"].isin(["ok", "ceiling"])]
    if ok.empty:
        return []
    fig, ax = plt.subplots(figsize=(7, 4.2))
    go = ok[ok["kind"] == "goroutine"].sort_values("created")
    if not go.empty:
        ax.plot(
            go["created"],
            go["rss_bytes_per_unit"],
            "o-",
            color=LANG_COLOURS["go"],
            label="goroutine, resident",
        )
        ax.plot(
            go["created"],
            go["stack_bytes_per_unit"],
            "o:",
            color=LANG_COLOURS["go"],
            label="goroutine, stack in use",
        )
    threads = ok[ok["kind"] == "thread"]
    styles = {"8MiB": "s", "1MiB": "^", "256KiB": "v", "unlimited": "D"}
    for limit, rows in threads.groupby("ulimit_s"):
        rows = rows.sort_values("created")
        marker = styles.get(str(limit), "o")
        ax.plot(
            rows["created"],
            rows["rss_bytes_per_unit"],
            marker + "-",
            color=LANG_COLOURS["c"],
            label=f"thread, resident (ulimit -s {limit})",
        )
        ax.plot(
            rows["created"],
            rows["virtual_bytes_per_unit"],
            marker + "--",
            color="grey",
            label=f"thread, reserved (ulimit -s {limit})",
        )
    ax.set_xscale("log")
    ax.set_yscale("log", base=2)
    ax.set_xlabel("units parked at once")
    ax.set_ylabel("bytes per unit")
    ax.set_title("What one goroutine and one thread cost in memory")
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, folder, "memory")


def _growth_table(growth: pd.DataFrame) -> list[str]:
    lines = [
        "",
        "One goroutine growing its stack (the runtime copies it to a larger one each time it "
        "runs out): the first descent pays the growth, the second runs on the grown stack.",
        "",
        "| stack needed | first descent | second descent | growth cost | stack in use after "
        "| result |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for _, row in growth.iterrows():
        result = _md(row["status"])
        if row["reason"] == row["reason"] and row["reason"]:
            result += f": {_md(row['reason'])}"
        if row["max_stack_bytes"] == row["max_stack_bytes"]:
            result += f" (debug.SetMaxStack {_kib(row['max_stack_bytes'])})"
        lines.append(
            f"| {_kib(row['target_bytes'])} | {_ns(row['first_ns'])} | {_ns(row['second_ns'])} "
            f"| {_ns(row['growth_ns'])} | {_kib(row['stack_inuse_delta_bytes'])} | {result} |"
        )
    return lines


def _memory_headline(folder: Path) -> list[str]:
    """One line: what one goroutine and one thread cost, at the most of each parked."""
    mem = folder_files.load_memory(folder)
    go = folder_files.memory_curve(mem, "goroutine")
    th = folder_files.memory_curve(mem, "thread")
    if go.empty or th.empty:
        return []
    g, t = go.iloc[-1], th.iloc[-1]
    return [
        f"- Memory: one goroutine ≈ **{_kib(g['rss_bytes_per_unit'])} resident** (its stack: "
        f"{_kib(g['stack_bytes_per_unit'])}), measured with {int(g['created']):,} parked; "
        f"one thread ≈ **{_kib(t['rss_bytes_per_unit'])} resident and "
        f"{t['virtual_bytes_per_unit'] / 2**20:,.1f} MiB reserved** (ulimit -s "
        f"{_md(t['ulimit_s'])}), measured with {int(t['created']):,} parked."
    ]


def _memory_section(folder: Path, figures: dict[str, list[Path]]) -> list[str]:
    path = folder / "memory.csv"
    if not path.is_file():
        return []
    mem = pd.read_csv(path, keep_default_na=False, na_values=[""])
    lines = ["## Memory: one goroutine against one thread", ""]
    lines += [*_memory_headline(folder), ""]
    lines += _images(figures.get("memory", []), "bytes per goroutine and per thread")
    lines += [
        "| kind | parked | ulimit -s | resident per unit | reserved (virtual) per unit "
        "| stack per unit | created per second | status |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for _, row in mem.iterrows():
        created = "—" if row["created"] != row["created"] else f"{int(row['created']):,}"
        rate = row["create_ns_per_unit"]
        rate_text = "—" if rate != rate or rate <= 0 else f"{1e9 / rate:,.0f}"
        status = _md(row["status"])
        if row["reason"] == row["reason"] and row["reason"]:
            status += f" ({_md(row['reason'])})"
        lines.append(
            f"| {_md(row['kind'])} | {created} | {_md(row['ulimit_s'])} "
            f"| {_kib(row['rss_bytes_per_unit'])} | {_kib(row['virtual_bytes_per_unit'])} "
            f"| {_kib(row['stack_bytes_per_unit'])} | {rate_text} | {status} |"
        )
    stacks_path = folder / "thread_stacks.csv"
    if stacks_path.is_file():
        stacks = pd.read_csv(stacks_path, keep_default_na=False, na_values=[""])
        lines += [
            "",
            "The stack a default thread gets, measured with pthread_getattr_np in a "
            "new thread, under each `ulimit -s` (set with setrlimit in a child process):",
            "",
            "| ulimit -s | thread stack | guard | status |",
            "|---|---:|---:|---|",
        ]
        for _, row in stacks.iterrows():
            lines.append(
                f"| {_md(row['ulimit_s'])} | {_kib(row['thread_stack_bytes'])} "
                f"| {_kib(row['guard_bytes'])} | {_md(row['status'])} |"
            )
    growth_path = folder / "stack_growth.csv"
    if growth_path.is_file():
        lines += _growth_table(pd.read_csv(growth_path, keep_default_na=False, na_values=[""]))
    lines += [
        "",
        "Resident and virtual bytes are the process's (`/proc/self/statm`) with all "
        "units parked, less before, over the units created; a goroutine's stack is the "
        "Go runtime's StackInuse delta; *reserved* is address space a thread's stack "
        "holds, mostly never touched.",
        "",
    ]
    return lines


def _counter_section(summary: pd.DataFrame, host: dict[str, Any]) -> list[str]:
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
            f"perf_event_open was refused ({_md(cs.get('reason'))}): OS context "
            "switches come from getrusage.",
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
            ("cache misses", "cache_misses_per_switch", 2),
        ]
    ok = summary[(summary["status"] == "ok") & ~_is_sweep(summary)].sort_values("ns_per_switch")
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
    return lines


def _precision_section(summary: pd.DataFrame) -> list[str]:
    """The median beside the regression slope, R², and why sampling stopped."""
    ok = summary[(summary["status"] == "ok") & ~_is_sweep(summary)].sort_values("ns_per_switch")
    if ok.empty or ok["slope_ns_per_switch"].isna().all():
        return []
    doubtful = ok[ok["trust"].fillna("ok").astype(str).isin(["ok", ""]) == False]  # noqa: E712
    lines = [
        "## Precision: the median against the regression",
        "",
        "Two estimates of one switch: the **median** of the per-sample figures, and the "
        "**slope** of a least-squares line of each timed run's elapsed time against its "
        "switches, over runs of the values' loop count and of 1/2, 1/4 and 1/8 of it, "
        "made after the values in a shuffled order. The "
        "slope leaves out what every run pays once (the *intercept*: starting the loop, "
        "reading the clock and counters); R² says how well a straight line fits. Both "
        "CIs are bootstrap 95% intervals. A case is flagged when its median's CI is wider "
        f"than ±{analyse.MAX_CI_HALF_WIDTH:.0%} or R² is under {analyse.MIN_R_SQUARED}. "
        "*Stopped* says why its sampling ended: *target*, its CI reached the profile's "
        "target; *budget*, its time ran out first; *one batch*, the profile takes one.",
        "",
    ]
    if doubtful.empty:
        lines += ["No case is flagged.", ""]
    else:
        lines += [
            f"**{len(doubtful)} of {len(ok)} cases flagged:** "
            + ", ".join(code(c) for c in doubtful["case"])
            + ".",
            "",
        ]
    lines += [
        "| case | median | CI ± | slope (95% CI) | intercept | R² | stopped | flag |",
        "|---|---:|---:|---|---:|---:|---|---|",
    ]
    for _, row in ok.iterrows():
        slope = row["slope_ns_per_switch"]
        slope_text = (
            "—"
            if math.isnan(slope)
            else f"{_ns(slope)} ({_ns(row['slope_ci_low'])} – {_ns(row['slope_ci_high'])})"
        )
        half = row["ci_half_width"]
        intercept = row["intercept_ns"]
        lines.append(
            f"| {code(row['case'])} | {_per_unit(row)} "
            f"| {'—' if math.isnan(half) else f'{half:.1%}'} | {slope_text} "
            f"| {'—' if math.isnan(intercept) else f'{intercept / 1e6:,.2f} ms'} "
            f"| {_num(row['r_squared'], 3)} | {_md(row['stop'] or '—')} "
            f"| {_md(row['trust'] or '—')} |"
        )
    lines.append("")
    return lines


def _sweep_section(summary: pd.DataFrame, figures: dict[str, list[Path]]) -> list[str]:
    lines: list[str] = []
    for sweep, (title, text, x_name) in SWEEP_TEXT.items():
        rows = summary[(summary["sweep"] == sweep) & (summary["status"] == "ok")]
        if rows.empty:
            continue
        lines += [f"## {title}", "", text, "", *_images(figures.get(sweep, []), title)]
        lines += [
            f"| case | {x_name} | ns per switch | 95% CI | OS ctx switches per switch | check |",
            "|---|---:|---:|---|---:|---|",
        ]
        rows = rows.assign(lang=rows["case"].str.split(".").str[0])
        for _, row in rows.sort_values(["lang", "sweep_x"], ascending=[False, True]).iterrows():
            x = int(row["sweep_x"])
            shown = f"{x // 1024} KiB" if sweep == "ring" else str(x)
            lines.append(
                f"| {code(row['case'])} | {shown} | {_ns(row['ns_per_switch'])} | {_ci(row)} "
                f"| {_num(row['os_ctx_switches_per_switch'])} | {_md(row['os_ctx_check'])} |"
            )
        lines.append("")
    return lines


def render_markdown(
    folder: Path,
    summary: pd.DataFrame,
    host: dict[str, Any],
    run: dict[str, Any],
    figures: list[Path],
) -> str:
    lines = [f"# switchbench run {_md(folder.name)}", ""]
    lines.append(
        f"{_md(host.get('cpu_model'))}, {_md(host.get('logical_cpus'))} logical CPUs, "
        f"Linux {_md(host.get('kernel'))}. Profile {code(run.get('profile'))}, "
        f"started {_md(run.get('started_utc'))}, took {run.get('wall_s', 0):.0f} s, "
        f"status: {_md(run.get('status'))}."
    )
    lines += ["", "## The answer", "", *_headline(summary), *_memory_headline(folder), ""]
    lines += _images(figures.get("main", []), "ns per switch for each case")

    ok = summary[(summary["status"] == "ok") & ~_is_sweep(summary)].sort_values("ns_per_switch")
    lines += [
        "## All cases, cheapest first",
        "",
        "Figures are per switch, or per the unit named (a spawned goroutine or thread, a call).",
        "",
        "| case | ns per switch | 95% CI | samples (processes) | OS ctx switches per switch "
        "| expected | check | × go.chan.p1 |",
        "|---|---:|---|---:|---:|---:|---|---:|",
    ]
    for _, row in ok.iterrows():
        check = "**MISS**" if row["os_ctx_check"] == "MISS" else _md(row["os_ctx_check"])
        lines.append(
            f"| {code(row['case'])} | {_per_unit(row)} | {_ci(row)} "
            f"| {int(row['samples'])} ({int(row['processes'])}) "
            f"| {_num(row['os_ctx_switches_per_switch'])} "
            f"(vol {_num(row['voluntary_ctx_per_switch'], 2)}, "
            f"invol {_num(row['involuntary_ctx_per_switch'], 2)}) "
            f"| {_num(row['expected_os_ctx_switches_per_switch'], 2)} | {check} "
            f"| {_num(row['ratio_to_go_chan_p1'], 3)} |"
        )
    missed = summary[(summary["status"] == "ok") & (summary["os_ctx_check"] == "MISS")]
    if not missed.empty:
        lines += [
            "",
            "Flagged **MISS**: the measured OS context switches per switch are far from "
            "what the case expects; read that figure with care: "
            + ", ".join(f"{code(c)}" for c in missed["case"])
            + ".",
        ]
    lines.append("")
    lines += _precision_section(summary)
    lines += overhead.section_lines(folder)
    lines += _sweep_section(summary, figures)
    lines += _memory_section(folder, figures)
    lines += leaks.section_lines(folder)
    lines += _system_section(folder, figures)
    lines += _counter_section(summary, host)
    not_ok = summary[summary["status"] != "ok"]
    if not not_ok.empty:
        lines += ["", "## Not measured", "", "| case | status | reason |", "|---|---|---|"]
        for _, row in not_ok.iterrows():
            lines.append(f"| {code(row['case'])} | {_md(row['status'])} | {_md(row['reason'])} |")

    lines += [
        "",
        "## What the cases are",
        "",
        "| case | what runs | one op |",
        "|---|---|---|",
    ]
    for _, row in summary[~_is_sweep(summary)].iterrows():
        lines.append(f"| {code(row['case'])} | {_md(row['description'])} | {_md(row['one_op'])} |")
    lines += [
        "",
        "## How to read this",
        "",
        "- One **switch** is one hand-off of control from one goroutine or thread to the other. "
        "A ping-pong round trip is two switches; each sample is the time of many round trips "
        "divided by the switches they hold.",
        "- Only the switching loop is timed: creating, pinning and joining the goroutines or "
        "threads happen outside it.",
        "- **ns per switch** is the median of all samples (pyperf worker processes × values); the "
        "95% CI is a bootstrap interval of that median, resampling worker processes and then "
        "values within each, since one process's values are not independent draws.",
        "- **OS ctx switches per switch** counts the kernel's context switches over the same "
        "timed region, divided by the switches: perf_event_open's context-switches where "
        "the kernel allows it, else getrusage (the counters table says which), for C over "
        "every benchmark thread, for Go over every thread of the driver process. About 0 "
        "means the switch stayed in user space; about 1 or more means every hand-off went "
        "through the kernel scheduler.",
        "- Figures from a shared VM are noisy: compare cases within one run, and runs by their "
        "CIs, not their last digit.",
        "",
        "## Host",
        "",
        *_host_lines(host),
        "",
    ]
    return "\n".join(lines)


def write_report(folder: Path) -> Path:
    summary = folder_files.load_summary(folder)
    for text_column in ("reason", "sweep", "unit", "one_op", "os_ctx_check", "trust", "stop"):
        summary[text_column] = summary[text_column].astype("object").fillna("")
    host = folder_files.load_host(folder)
    run = folder_files.load_run(folder)
    figures = {
        "main": plot_ns_per_switch(summary, folder),
        "pairs": plot_sweep(summary, "pairs", folder),
        "ring": plot_sweep(summary, "ring", folder),
        "system": plot_system(folder, run),
        "memory": plot_memory(folder),
    }
    text = render_markdown(folder, summary, host, run, figures)
    out = folder / "report.md"
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    html.write(text, folder, "report.html", f"switchbench run {folder.name}")
    return out
