"""A run folder -> report.md and the figures. Reads only the folder's files,
so a report can be rebuilt anywhere with `switchbench report RUN_DIR`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from bench.analysis import stats
from bench.analysis import summary as analyse
from bench.catalogue.cases import FLOOR_CASE, GOROUTINE_CASE, THREAD_CASE
from bench.measure import agree, leaks, overhead
from bench.render import compare, html, sweeps
from bench.render.axes import bytes_label, count_label, human_axis, note_below, ns_label
from bench.render.cells import check_cell as _check_cell
from bench.render.cells import ci as _ci
from bench.render.cells import expected as _expected
from bench.render.cells import per_unit as _per_unit
from bench.render.cells import slope as slope_cell
from bench.render.fmt import code
from bench.render.fmt import kib as _kib
from bench.render.fmt import md as _md
from bench.render.fmt import ns as _ns
from bench.render.fmt import num as _num
from bench.render.plot import plt
from bench.render.plot import save as save_figure
from bench.results import read, schema
from bench.results.write import atomic_write, refuse_symlink, refuse_symlinked_folder

FIGURE_STEM = "ns_per_switch"
LANG_COLOURS = {"go": "#00add8", "c": "#d1495b"}
GROUP_COLOURS = ("#00add8", "#d1495b", "#9e9e9e")


def _within_process_note(summary: pd.DataFrame) -> list[str]:
    """A paragraph on CIs from too few processes, when the measured cases have any."""
    ok = summary[summary["status"] == "ok"]
    scopes = ok["processes"].map(stats.within_processes)
    few = ok[ok["ci_low"].notna() & (scopes != "")]
    if few.empty:
        return []
    marks = " or ".join(f"*{s}*" for s in sorted(set(scopes[few.index])))
    return [
        "",
        f"{len(few)} of {len(ok)} measured cases rest on fewer than "
        f"{stats.MIN_PROCESSES_FOR_CI} worker processes, and their CI is marked {marks}: "
        "it covers only how the values scatter inside those processes, not how processes "
        "differ from one another. Each process settles at a level of its own and the "
        "machine drifts, so separate runs will differ by more than that interval: do not "
        "read a difference between runs into it.",
    ]


def _is_sweep(summary: pd.DataFrame) -> pd.Series:
    return summary["sweep"] != ""


def _save(fig: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    return save_figure(fig, out_dir, stem, dpi=120)


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
    human_axis(ax.xaxis, ns_label)
    ax.set_xlabel("time per switch (median, 95% CI; log scale)")
    # A tall figure: the scale at the top too, where the reader starts.
    ax.tick_params(axis="x", which="both", top=True, labeltop=True)
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
                f"(95% CI {_ci(row, in_parentheses=True)}), "
                f"{_num(row['os_ctx_switches_per_switch'])} OS context switches per switch."
            )
        else:
            lines.append(f"- One {kind} switch (`{case}`): not measured in this run.")
    if GOROUTINE_CASE in ok.index and THREAD_CASE in ok.index:
        ratio = ok.loc[THREAD_CASE, "ns_per_switch"] / ok.loc[GOROUTINE_CASE, "ns_per_switch"]
        lines.append(
            f"- On this machine a thread switch costs **{ratio:.1f}×** a goroutine switch."
        )
    lines += [line for pair in CONTEXT_PAIRS if (line := _pair_line(ok, *pair))]
    if FLOOR_CASE in ok.index:
        floor = ok.loc[FLOOR_CASE]
        line = (
            f"- Under both, the user-space floor: `{FLOOR_CASE}` switches two contexts of "
            f"one thread with no system call in **{_ns(floor['ns_per_switch'])}** (OS "
            f"switches per switch: {_num(floor['os_ctx_switches_per_switch'])})"
        )
        if GOROUTINE_CASE in ok.index and floor["ns_per_switch"] > 0:
            times = ok.loc[GOROUTINE_CASE, "ns_per_switch"] / floor["ns_per_switch"]
            line += f"; a goroutine switch costs {times:.1f}× that"
        lines.append(line + ".")
    return lines


# A switch of two contexts of one thread with no system call (Boost.Context).
# The condition variable signalled under its mutex (the design card's case) and after
# letting go of it, per placement.
CONDVAR_BOTH_WAYS = {
    placement: (f"c.condvar.{placement}", f"c.condvar.signal-unlocked.{placement}")
    for placement in ("same-core", "cross-core", "unpinned")
}


def _condvar_section(summary: pd.DataFrame) -> list[str]:
    """The two condition-variable hand-offs side by side, and why they differ, from the
    measured counts; [] when no placement has both."""
    ok = summary[summary["status"] == "ok"].set_index("case")
    both = {p: pair for p, pair in CONDVAR_BOTH_WAYS.items() if all(c in ok.index for c in pair)}
    if not both:
        return []
    lines = [
        "## Condition variables, both ways",
        "",
        "The design card's thread case signals the condition variable while it holds the "
        "mutex; its twin lets go of the mutex first, then signals. Same threads, same "
        "placement, one line of code apart:",
        "",
        "| placement | signalled | ns per switch | OS ctx switches per switch | voluntary "
        "| involuntary |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for placement, (under, after) in both.items():
        for case, words in ((under, "under the mutex"), (after, "after unlocking")):
            row = ok.loc[case]
            lines.append(
                f"| {placement} | {words} (`{case}`) | {_ns(row['ns_per_switch'])} "
                f"| {_num(row['os_ctx_switches_per_switch'])} "
                f"| {_num(row['voluntary_ctx_per_switch'])} "
                f"| {_num(row['involuntary_ctx_per_switch'])} |"
            )
    lines.append("")
    for placement, (under, after) in both.items():
        a, b = ok.loc[under], ok.loc[after]
        extra = a["os_ctx_switches_per_switch"] - b["os_ctx_switches_per_switch"]
        if math.isnan(extra):
            continue
        ratio = a["ns_per_switch"] / b["ns_per_switch"]
        said = (
            f"{placement}: signalling under the mutex made {_num(extra, 2)} more OS context "
            f"switches per switch than signalling after unlocking, and took {ratio:.2f}× "
            "the time."
        )
        if extra >= 0.5:
            said += (
                " The extra switches are the woken waiter's: woken while the signaller "
                "still holds the mutex, it runs, finds the mutex taken and sleeps again "
                "until the signaller lets go."
            )
            if placement == "same-core":
                said += (
                    " On one CPU the waiter runs at once because the kernel lets a woken "
                    "thread preempt its waker, which is how the signaller is caught "
                    "holding the mutex."
                )
        elif extra > -0.5:
            said += (
                " Here the two made about as many: the waiter did not find the mutex "
                "held, because it ran on another CPU after the signaller had let go, or "
                "not before."
            )
        lines.append(f"- {said}")
    return [*lines, ""]


# The headline divides a case with about 2 kernel switches per hand-off by one with
# none; these set it in context: the same primitive in both languages, and the cheapest
# kernel hand-off (one kernel switch) against the goroutine switch.
CONTEXT_PAIRS = (
    ("the same primitive, a condition variable, in both", "go.cond.p1", THREAD_CASE),
    ("the cheapest kernel hand-off, a futex", GOROUTINE_CASE, "c.futex.same-core"),
)


def _pair_line(ok: pd.DataFrame, words: str, goroutine: str, thread: str) -> str | None:
    """One context ratio with each side's OS context switches per switch; None when
    either case was not measured."""
    if goroutine not in ok.index or thread not in ok.index:
        return None
    go, th = ok.loc[goroutine], ok.loc[thread]
    ratio = th["ns_per_switch"] / go["ns_per_switch"]
    return (
        f"- Beside it, {words}: `{thread}` ({_ns(th['ns_per_switch'])}; OS switches per "
        f"switch: {_num(th['os_ctx_switches_per_switch'])}) costs **{ratio:.1f}×** "
        f"`{goroutine}` ({_ns(go['ns_per_switch'])}; OS switches per switch: "
        f"{_num(go['os_ctx_switches_per_switch'])})."
    )


def _missed(summary: pd.DataFrame) -> pd.DataFrame:
    """The measured cases whose OS switches per switch fell outside their expected range."""
    verdicts = summary["os_ctx_check"].map(analyse.check_verdict)
    return summary[(summary["status"] == "ok") & (verdicts == "MISS")]


def _miss_section(summary: pd.DataFrame) -> list[str]:
    """Every case whose measured OS switches per switch contradict its mechanism, with
    both figures; [] when none does."""
    missed = _missed(summary)
    if missed.empty:
        return []
    measured = (summary["status"] == "ok").sum()
    lines = [
        "## MISS: switches that did not work as their case says",
        "",
        f"{len(missed)} of {measured} measured cases made a number of OS context switches "
        "per switch outside the range their mechanism gives (*What the cases are* says "
        "why each expects what it does). Their switch did not go the way the case "
        "describes, so its time is not the cost of that kind of switch: read it with care.",
        "",
    ]
    for _, row in missed.iterrows():
        unit = row.get("unit") or "switch"
        lines.append(
            f"- {code(row['case'])}: measured **{_num(row['os_ctx_switches_per_switch'])}** "
            f"OS context switches per {_md(unit)} (voluntary "
            f"{_num(row['voluntary_ctx_per_switch'], 2)}, involuntary "
            f"{_num(row['involuntary_ctx_per_switch'], 2)}; {_md(row['os_ctx_source'])}), "
            f"expected **{_expected(row)}**."
        )
    return [*lines, ""]


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


def system_rates(system: pd.DataFrame | None) -> pd.DataFrame:
    """system.csv as rates: context switches per second between consecutive samples."""
    if system is None or len(system) < 2:
        return pd.DataFrame()
    sys_df = system.assign(case=system["case"].fillna("")).sort_values("t_s")
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


def plot_system(folder: Path, run: dict[str, Any], system: pd.DataFrame | None) -> list[Path]:
    rates = system_rates(system)
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
    human_axis(ax.yaxis, count_label)
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


def _system_section(system: pd.DataFrame | None, figures: dict[str, list[Path]]) -> list[str]:
    rates = system_rates(system)
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


# Resident bytes per thread hardly depend on `ulimit -s` (only the touched pages count):
# the figure draws one line for them when every limit's line is within this share.
RESIDENT_SAME_WITHIN = 0.10


def coinciding_resident(
    threads: pd.DataFrame, within: float = RESIDENT_SAME_WITHIN
) -> pd.Series | None:
    """The threads' resident bytes per unit by count parked, as one line (the median over
    the `ulimit -s` settings at each count), when the settings' lines coincide: every two
    of them share a count, and at each count measured under more than one setting the
    largest is within `within` of the smallest. None when they differ, or are not two."""
    curves = {
        str(limit): rows.groupby("created")["rss_bytes_per_unit"].median()
        for limit, rows in threads.groupby("ulimit_s")
    }
    if len(curves) < 2:
        return None
    names = list(curves)
    for i, a in enumerate(names):
        if any(curves[a].index.intersection(curves[b].index).empty for b in names[i + 1 :]):
            return None
    both = pd.concat(curves, axis=1).sort_index()
    shared = both.notna().sum(axis=1) >= 2
    spread = both.max(axis=1) / both.min(axis=1)
    if (spread[shared] > 1 + within).any():
        return None
    return both.median(axis=1)


def plot_memory(folder: Path, mem: pd.DataFrame) -> list[Path]:
    """Bytes per parked unit against how many are parked (log scales), into folder."""
    if mem.empty:
        return []
    ok = mem[mem["status"].isin(["ok", "ceiling"])]
    if ok.empty:
        return []
    fig, ax = plt.subplots(figsize=(8.5, 4.2))
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
    merged = coinciding_resident(threads)
    if merged is not None:
        ax.plot(
            merged.index,
            merged.to_numpy(),
            "o-",
            color=LANG_COLOURS["c"],
            label="thread, resident (any ulimit -s)",
        )
    # Largest reservation first, as the lines lie from the top.
    by_size = threads.groupby("ulimit_s")["virtual_bytes_per_unit"].median()
    for limit in by_size.sort_values(ascending=False).index:
        rows = threads[threads["ulimit_s"] == limit].sort_values("created")
        marker = styles.get(str(limit), "o")
        if merged is None:
            ax.plot(
                rows["created"],
                rows["rss_bytes_per_unit"],
                marker + "-",
                color=LANG_COLOURS["c"],
                label=f"thread, resident, ulimit -s {limit}",
            )
        ax.plot(
            rows["created"],
            rows["virtual_bytes_per_unit"],
            marker + "--",
            color="grey",
            label=f"reserved, ulimit -s {limit}",
        )
    ax.set_xscale("log")
    human_axis(ax.xaxis, count_label)
    ax.set_yscale("log", base=2)
    human_axis(ax.yaxis, bytes_label)
    ax.set_xlabel("units parked at once")
    ax.set_ylabel("bytes per unit")
    ax.set_title("What one goroutine and one thread cost in memory")
    ax.grid(which="both", alpha=0.3)
    # Beside the axes: inside, it would hide lines wherever they lie.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if merged is not None:
        limits = ", ".join(str(limit) for limit in by_size.sort_values(ascending=False).index)
        note_below(
            ax,
            f"One resident line for threads: those of ulimit -s {limits} coincide\n"
            f"(within {RESIDENT_SAME_WITHIN:.0%} at every count they share), so they are merged.",
        )
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


def _memory_headline(mem: pd.DataFrame) -> list[str]:
    """One line: what one goroutine and one thread cost, at the most of each parked."""
    go = read.memory_curve(mem, "goroutine")
    th = read.memory_curve(mem, "thread")
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


def _memory_section(data: read.Folder, figures: dict[str, list[Path]]) -> list[str]:
    mem = data.memory
    if mem.empty:
        return []
    lines = ["## Memory: one goroutine against one thread", ""]
    lines += [*_memory_headline(mem), ""]
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
    stacks = data.thread_stacks
    if stacks is not None:
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
    if data.stack_growth is not None:
        lines += _growth_table(data.stack_growth)
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
        "reading the clock and counters); R² says how well a straight line fits. The line "
        "is fitted within each worker process, each keeping an intercept of its own, since "
        "processes settle at levels of their own. Both CIs are bootstrap 95% intervals that "
        "resample worker processes, then values or runs within each; the slope's needs "
        f"{stats.MIN_PROCESSES_FOR_SLOPE_CI} processes, and from fewer the range of the "
        "single processes' slopes stands in its place. A case is flagged when its "
        "median's CI is wider "
        f"than ±{stats.MAX_CI_HALF_WIDTH:.0%}, R² is under {stats.MIN_R_SQUARED}, "
        f"or its CI rests on fewer than {stats.MIN_PROCESSES_FOR_CI} worker processes "
        "(*within one process*: it cannot see how processes, or runs, differ). "
        "*Stopped* says why its sampling ended: *target*, its CI reached the profile's "
        f"target over at least {stats.MIN_PROCESSES_FOR_CI} processes; *budget*, its "
        "time ran out first; *one batch*, the profile takes one.",
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
        slope_text = slope_cell(row)
        half = row["ci_half_width"]
        scope = stats.within_processes(row["processes"])
        half_text = "—" if math.isnan(half) else f"{half:.1%}" + (f" ({scope})" if scope else "")
        intercept = row["intercept_ns"]
        lines.append(
            f"| {code(row['case'])} | {_per_unit(row)} "
            f"| {half_text} | {slope_text} "
            f"| {'—' if math.isnan(intercept) else f'{intercept / 1e6:,.2f} ms'} "
            f"| {_num(row['r_squared'], 3)} | {_md(row['stop'] or '—')} "
            f"| {_md(row['trust'] or '—')} |"
        )
    lines.append("")
    return lines


# The steps a run makes beside its cases: run.json's flag, the file each writes, in words.
RUN_STEPS = (
    ("memory", "memory.csv", "goroutine and thread memory"),
    ("leaks", "leaks.csv", "the goroutine-leak scenarios"),
    ("overhead", "overhead.csv", "the timer and the minimal harness-free loops"),
    ("agreement", schema.AGREEMENT_CSV, f"the pipe cases against {agree.TOOL}"),
)


def _agreement_lines(data: read.Folder) -> list[str]:
    """The check against perf bench sched pipe: its table, or why it measured nothing;
    nothing for a run that did not ask for it."""
    if data.agreement is not None:
        return agree.section_lines(agree.summarise(data.agreement), None)
    unavailable = data.run.get("agreement_unavailable")
    if data.run.get("agreement") and unavailable:
        return agree.section_lines(None, str(unavailable))
    return []


def _steps_only(data: read.Folder, figures: dict[str, list[Path]]) -> list[str]:
    """The report of a run that measured no case (`switchbench leaks`, `--only memory`):
    what it measured, and those sections alone; no answer, case table or precision."""
    run = data.run
    said = []
    for flag, name, words in RUN_STEPS:
        there = {
            "memory": not data.memory.empty,
            "leaks": data.leaks is not None,
            "overhead": data.overhead is not None,
            "agreement": data.agreement is not None,
        }[flag]
        if run.get(flag, there):
            if flag == "agreement" and not there and run.get("agreement_unavailable"):
                said.append(f"{words} (skipped: {_md(run['agreement_unavailable'])})")
                continue
            said.append(f"{words} ({name})" if there else f"{words} (not finished: no {name})")
    lines = [
        "",
        f"This run measured {'; '.join(said) if said else 'nothing'}; no switch cases "
        "(a run without `--only` measures the cases too).",
        "",
    ]
    lines += overhead.section_lines(data.overhead)
    lines += _agreement_lines(data)
    lines += _memory_section(data, figures)
    lines += leaks.section_lines(data.leaks)
    lines += ["## Host", "", *_host_lines(data.host), ""]
    return lines


def render_markdown(data: read.Folder, figures: dict[str, list[Path]]) -> str:
    """report.md's text for a checked folder and the figures just drawn."""
    folder, summary, host, run = data.path, data.summary, data.host, data.run
    lines = [f"# switchbench run {_md(folder.name)}", ""]
    lines.append(
        f"{_md(host.get('cpu_model'))}, {_md(host.get('logical_cpus'))} logical CPUs, "
        f"Linux {_md(host.get('kernel'))}. Profile {code(run.get('profile'))}, "
        f"started {_md(run.get('started_utc'))}, took {run.get('wall_s') or 0:.0f} s, "
        f"status: {_md(run.get('status'))}."
    )
    if summary.empty:  # no case selected: only the steps it ran
        return "\n".join(lines + _steps_only(data, figures))
    lines += ["", "## The answer", "", *_headline(summary), *_memory_headline(data.memory), ""]
    lines += _images(figures.get("main", []), "ns per switch for each case")
    lines += _miss_section(summary)

    ok = summary[(summary["status"] == "ok") & ~_is_sweep(summary)].sort_values("ns_per_switch")
    lines += [
        "## All cases, cheapest first",
        "",
        "Figures are per switch, or per the unit named (a spawned goroutine or thread, a call).",
        "",
        "| case | ns per switch | 95% CI | samples (processes) | OS ctx switches per switch "
        "| expected (range) | check | × go.chan.p1 |",
        "|---|---:|---|---:|---:|---:|---|---:|",
    ]
    for _, row in ok.iterrows():
        lines.append(
            f"| {code(row['case'])} | {_per_unit(row)} | {_ci(row)} "
            f"| {int(row['samples'])} ({int(row['processes'])}) "
            f"| {_num(row['os_ctx_switches_per_switch'])} "
            f"(vol {_num(row['voluntary_ctx_per_switch'], 2)}, "
            f"invol {_num(row['involuntary_ctx_per_switch'], 2)}) "
            f"| {_expected(row)} | {_check_cell(row['os_ctx_check'])} "
            f"| {_num(row['ratio_to_go_chan_p1'], 3)} |"
        )
    missed = _missed(summary)
    if not missed.empty:
        lines += [
            "",
            "Flagged **MISS** (listed at the top, with both figures): the measured OS "
            "context switches per switch are outside the range the case's mechanism "
            "gives; read its time with care: "
            + ", ".join(f"{code(c)}" for c in missed["case"])
            + ".",
        ]
    lines += _within_process_note(summary)
    lines.append("")
    lines += _condvar_section(summary)
    lines += _precision_section(summary)
    lines += overhead.section_lines(data.overhead)
    lines += _agreement_lines(data)
    lines += sweeps.section_lines(summary, figures)
    lines += _memory_section(data, figures)
    lines += leaks.section_lines(data.leaks)
    lines += _system_section(data.system, figures)
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
        "Each case says what runs, how many OS context switches one switch should cost "
        "(the range outside which it is flagged **MISS**), and why.",
        "",
        "| case | what runs, and the OS context switches it expects | one op |",
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
        "- **OS ctx switches per switch** counts the kernel's context switches (voluntary "
        "and involuntary) over the same timed samples, divided by the switches: getrusage, "
        "read without perf counters (an active perf counter slows every switch), for C "
        "over every benchmark thread, for Go over every thread of the driver process. "
        "perf_event_open's context-switches, from a separate counted run, is the fallback "
        "only where getrusage could not be read (the counters table says which source each "
        "case used). About 0 means the switch stayed in user space; about 1 means every "
        "hand-off went through the kernel scheduler once, 2 or 3 that it took more threads "
        "or wake-ups than one. Each case's expected figure and range come from how it "
        "switches (*What the cases are*); a measurement outside the range is a **MISS**.",
        "- Figures from a shared VM are noisy: compare cases within one run, and runs by their "
        "CIs, not their last digit.",
        "",
        "## Host",
        "",
        *_host_lines(host),
        "",
    ]
    return "\n".join(lines)


# Every file `write_report` writes into a folder, checked before any is written.
FIGURE_STEMS = (FIGURE_STEM, "sweep_pairs", "sweep_ring", "system_ctxt", "memory")
OUTPUT_NAMES = (
    *(f"{stem}.{suffix}" for stem in FIGURE_STEMS for suffix in ("png", "svg")),
    "report.md",
    "report.html",
)


def write_report(folder: Path) -> Path:
    """Check the whole folder, then draw its figures and write report.md and
    report.html into it; returns report.md's path. Nothing is written when the folder
    is damaged, or when any output name in it is a symlink."""
    data = read.load(folder)
    refuse_symlinked_folder(folder)
    for name in OUTPUT_NAMES:
        refuse_symlink(folder / name)
    summary = data.summary
    figures = {
        "main": plot_ns_per_switch(summary, folder),
        "pairs": sweeps.plot(summary, "pairs", folder),
        "ring": sweeps.plot(summary, "ring", folder),
        # A run of no case (leaks, memory alone) has no cases to shade in the system view.
        "system": plot_system(folder, data.run, data.system) if not summary.empty else [],
        "memory": plot_memory(folder, data.memory),
    }
    text = render_markdown(data, figures)
    out = atomic_write(folder / "report.md", text)
    drawn = [p for paths in figures.values() for p in paths]
    html.write(text, folder, "report.html", f"switchbench run {folder.name}", drawn)
    return out
