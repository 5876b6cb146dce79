"""memory.csv, thread_stacks.csv and stack_growth.csv → the report's memory figure.

Headline and section.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.render.axes import memory_axes, note_below
from bench.render.fmt import kib as _kib
from bench.render.fmt import md as _md
from bench.render.fmt import ns as _ns
from bench.render.plot import LANG_COLOURS, images, plt
from bench.render.plot import save as save_figure
from bench.results import read

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
    memory_axes(ax, "bytes per unit")
    ax.set_title("What one goroutine and one thread cost in memory")
    # Beside the axes: inside, it would hide lines wherever they lie.
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if merged is not None:
        limits = ", ".join(str(limit) for limit in by_size.sort_values(ascending=False).index)
        note_below(
            ax,
            f"One resident line for threads: those of ulimit -s {limits} coincide\n"
            f"(within {RESIDENT_SAME_WITHIN:.0%} at every count they share), so they are merged.",
        )
    return save_figure(fig, folder, "memory")


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


def memory_headline(mem: pd.DataFrame) -> list[str]:
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


def memory_section(data: read.Folder, figures: dict[str, list[Path]]) -> list[str]:
    mem = data.memory
    if mem.empty:
        return []
    lines = ["## Memory: one goroutine against one thread", ""]
    lines += [*memory_headline(mem), ""]
    lines += images(figures.get("memory", []), "bytes per goroutine and per thread")
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
