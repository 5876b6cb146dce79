"""timesplit.csv of one run, or of several → the "where the time goes" section and figure.

One table and one stacked-bar figure per folder (each case's CPU time on its CPUs, as
shares of the CPU-side parts' sum), a line on the method and its resolution, and the two
checks per case; for a comparison, the same parts of every folder side by side and one
figure with a bar per case and folder.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.analysis.timesplit import TOLERANCE
from bench.render.fmt import code, md, missing, ns, number, plural
from bench.render.plot import images, plt, save

FIGURE_STEM = "timesplit"
COMPARE_FIGURE_STEM = "compare_timesplit"
TITLE = "## Where the time of one switch goes"

# The CPU-side parts in the order they are stacked, their words and colours.
BAR_PARTS = (
    ("user", "threads: user", "#00add8"),
    ("kernel", "threads: kernel", "#d1495b"),
    ("other", "other tasks", "#8d6a9f"),
    ("irq", "interrupts", "#edae49"),
    ("idle", "CPUs idle", "#c8c8c8"),
    ("steal", "steal", "#3d3d3d"),
)


def _ok(frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame()
    return frame[frame["status"] == "ok"]


def _check(ratio: object, agree: object) -> str:
    value = number(ratio)
    if missing(value):
        return "unavailable"
    verdict = "agree" if agree == "yes" else "**disagree**"
    return f"{value:.3f} ({verdict})"


def _share(value: object) -> str:
    x = number(value)
    return "unavailable" if missing(x) else f"{x:.1%}"


def _view(row: pd.Series) -> str:
    cpus = md(row.get("cpus"))
    if row.get("cpu_view") == "pinned":
        return f"{cpus} (pinned)"
    return f"{cpus} (all of the affinity)"


def _method_lines(ok: pd.DataFrame) -> list[str]:
    hz = {int(number(h)) for h in ok["user_hz"] if not missing(number(h))}
    hz_text = ", ".join(str(h) for h in sorted(hz)) or "unknown"
    region = ok["region_ns"].map(number)
    return [
        "One accounted run per case, outside the timed samples, of "
        f"{region.min() / 1e9:.2f}–{region.max() / 1e9:.2f} s. Per benchmark thread, over its "
        "timed region: getrusage `ru_utime`/`ru_stime` (C: `RUSAGE_THREAD` in each thread and "
        "process; Go: `RUSAGE_SELF`, the whole driver process) and "
        "`/proc/<tid>/schedstat` (on-CPU and run-queue wait in ns). Per CPU the case ran on "
        "(the pinned CPUs; for unpinned and Go cases every CPU of the process's affinity): "
        "`/proc/stat` user, nice, system, irq, softirq, idle, iowait, steal, read just "
        "before the region and just after it.",
        "",
        f"Resolution: `/proc/stat` counts in USER_HZ ticks ({hz_text} per second), so each "
        "CPU-side part is good to about one tick per CPU (the *tick* column, per switch); "
        "the kernel's user/kernel split of a thread's time is sampled at its scheduler "
        "tick and scaled to the thread's runtime, which it keeps in ns (schedstat's "
        "on-CPU time). *Other tasks*, where the case's CPUs are all of the machine's, is "
        "measured: every other task's `/proc/<pid>/task/<tid>/schedstat` (ns) over the "
        "region. Where they are some of them, that machine-wide sum would count other "
        "CPUs' work, so it is the CPUs' user + nice + system minus the threads' user + "
        "kernel: a difference of two measurements, one of them ticks, which can come out "
        "below 0 (timesplit.csv's `other_source` says which). On a tickless kernel "
        "`/proc/stat`'s idle is kept in ns while its busy fields are tick samples, which "
        "miss much of a CPU's busy time when it sleeps and wakes many times a tick: that is "
        "why the schedstat sum is preferred. The check below says where the parts do not "
        "add up. "
        "Run-queue wait overlaps the CPU-side parts (another thread ran meanwhile), so it "
        "is shown beside them, not in their sum.",
        "",
    ]


def _table(ok: pd.DataFrame) -> list[str]:
    head = (
        "| case | CPUs | timed ns/switch | user | kernel | other tasks | interrupts | idle "
        "| steal | tick | run-queue wait | user share | parts ÷ (wall × CPUs) "
        "| schedstat ÷ getrusage |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for _, row in ok.iterrows():
        parts = " | ".join(ns(number(row[f"{p}_ns_per_switch"])) for p, _, _ in BAR_PARTS)
        lines.append(
            f"| {code(row['case'])} | {_view(row)} | {ns(number(row['ns_per_switch']))} "
            f"| {parts} | {ns(number(row['tick_ns_per_switch']))} "
            f"| {ns(number(row['runq_wait_ns_per_switch']))} | {_share(row['user_share'])} "
            f"| {_check(row['parts_ratio'], row['parts_agree'])} "
            f"| {_check(row['oncpu_ratio'], row['oncpu_agree'])} |"
        )
    return lines


def _not_measured(frame: pd.DataFrame) -> list[str]:
    rest = frame[frame["status"] != "ok"]
    return [
        f"- {code(r['case'])}: {md(r['status'])}: {md(r['reason'])}" for _, r in rest.iterrows()
    ]


def _checks_line(ok: pd.DataFrame) -> list[str]:
    said = []
    for column, words in (
        ("oncpu_agree", "the threads' on-CPU time from schedstat and their user + kernel time "
         "from getrusage"),
        ("parts_agree", "the CPU-side parts' sum and the wall time × the CPUs"),
    ):  # fmt: skip
        bad = ok[ok[column] == "no"]["case"].tolist()
        known = int((ok[column].isin(("yes", "no"))).sum())
        if bad:
            said.append(
                f"{words} differ by more than {TOLERANCE:.0%} in "
                f"{plural(len(bad), 'case')} of {known}: {', '.join(code(c) for c in bad)}."
            )
        elif known:
            said.append(f"{words} agree within {TOLERANCE:.0%} in all {known} cases.")
    for _, row in ok[ok["threads_born"].map(number) > 0].iterrows():
        born = number(row["threads_born"])
        said.append(
            f"{code(row['case'])}: {born:.0f} of its {number(row['threads']):.0f} threads "
            f"{'was' if born == 1 else 'were'} born inside the region (counted from 0)."
        )
    unavailable = ok[ok["unavailable"].notna() & (ok["unavailable"].astype(str) != "")]
    for _, row in unavailable.iterrows():
        said.append(f"{code(row['case'])}: unavailable: {md(row['unavailable'])}.")
    return [f"- {line}" for line in said]


def section_lines(frame: pd.DataFrame | None, figures: dict[str, list[Path]]) -> list[str]:
    """The report's section; [] when the run has no timesplit.csv."""
    if frame is None:
        return []
    ok = _ok(frame)
    lines = [TITLE, ""]
    if ok.empty:
        return [*lines, "The time split measured no case in this run.", *_not_measured(frame), ""]
    took = frame["wall_s"].map(number).sum()
    lines += [
        f"{plural(len(ok), 'case')} in ns per switch, on the CPUs each case ran on; "
        f"the step took {took:.1f} s.",
        "",
        *_method_lines(ok),
        *_table(ok),
        "",
        *_checks_line(ok),
        "",
        *images(figures.get("timesplit", []), "where the time of one switch goes"),
    ]
    rest = _not_measured(frame)
    return lines + (["Not split:", "", *rest, ""] if rest else [])


def _bars(ax: plt.Axes, labels: list[str], rows: list[pd.Series]) -> None:
    """One horizontal bar per row: its CPU-side parts as shares of their sum (a part
    below 0, possible for other tasks, is drawn as 0 and given in the table)."""
    left = [0.0] * len(rows)
    for part, words, colour in BAR_PARTS:
        values = []
        for row in rows:
            total = number(row["parts_ns_per_switch"])
            value = number(row[f"{part}_ns_per_switch"])
            ok = not missing(total) and total > 0 and not missing(value)
            values.append(max(value, 0.0) / total if ok else 0.0)
        ax.barh(range(len(rows)), values, left=left, color=colour, label=words)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("share of the CPUs' time over the region (parts' sum = 1)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8)


def plot(frame: pd.DataFrame | None, out_dir: Path) -> list[Path]:
    """The stacked bars of every split case; [] when there are none."""
    ok = _ok(frame)
    if ok.empty:
        return []
    rows = [row for _, row in ok.iterrows()]
    labels = [f"{r['case']} ({ns(number(r['parts_ns_per_switch']))})" for r in rows]
    fig, ax = plt.subplots(figsize=(9, 2.4 + 0.32 * len(rows)))
    _bars(ax, labels, rows)
    ax.set_title("Where the time of one switch goes (CPUs' time per switch)", pad=48)
    return save(fig, out_dir, FIGURE_STEM)


def compare_lines(runs: list[tuple[str, pd.DataFrame | None]], figure: list[Path]) -> list[str]:
    """compare.md's section: each case's parts per switch in every folder that split it;
    [] when none did."""
    have = [(label, _ok(frame)) for label, frame in runs if not _ok(frame).empty]
    if not have:
        return []
    cases = list(dict.fromkeys(c for _, ok in have for c in ok["case"]))
    head = "| case | run | user | kernel | other tasks | interrupts | idle | steal | user share |"
    lines = [TITLE, "", head, "|" + "---|" * head.count(" | ") + "---|"]
    for case in cases:
        for label, ok in have:
            found = ok[ok["case"] == case]
            if found.empty:
                continue
            row = found.iloc[0]
            parts = " | ".join(ns(number(row[f"{p}_ns_per_switch"])) for p, _, _ in BAR_PARTS)
            lines.append(f"| {code(case)} | {md(label)} | {parts} | {_share(row['user_share'])} |")
    without = [label for label, frame in runs if _ok(frame).empty]
    lines.append("")
    if without:
        lines += [f"No time split in {', '.join(md(w) for w in without)}.", ""]
    return lines + images(figure, "where the time of one switch goes, every run")


def plot_compare(runs: list[tuple[str, pd.DataFrame | None]], out_dir: Path) -> list[Path]:
    """One bar per case and folder, cases together; [] when no folder split any case."""
    have = [(label, _ok(frame)) for label, frame in runs if not _ok(frame).empty]
    if not have:
        return []
    cases = list(dict.fromkeys(c for _, ok in have for c in ok["case"]))
    labels, rows = [], []
    for case in cases:
        for label, ok in have:
            found = ok[ok["case"] == case]
            if not found.empty:
                labels.append(f"{case} · {label}")
                rows.append(found.iloc[0])
    fig, ax = plt.subplots(figsize=(9, 2.4 + 0.32 * len(rows)))
    _bars(ax, labels, rows)
    ax.set_title("Where the time of one switch goes, every run", pad=48)
    return save(fig, out_dir, COMPARE_FIGURE_STEM)
