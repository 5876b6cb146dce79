"""Result folders → compare.md, compare.html, compare.csv and figures, against the first.

One folder per machine, kernel, Go release...; each run is set against the first.

Per case: every run's median and 95% CI (from its summary.csv); the ratio of
its median to the first run's, with a bootstrap CI drawn from both runs'
samples; and a verdict. A difference is called *significant* only when that
CI excludes 1 *and* the ratio is outside the noise band (±NOISE_BAND): two
runs of one shared VM a few minutes apart differ by more than their own CIs
(the machine drifts between runs, which no within-run CI can see), so CI-only
significance would flag many cases of two identical machines.

Normalised views travel between machines: cost in cycles (ns times the clock
rate: from the cycles counter where the machine has one, else the clock rate
measured at the start of the run, else the one the kernel reports), and cost
as a multiple of the same run's null system call and of its go.chan.p1.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from bench.analysis.comparison import (
    NOISE_BAND,
    RunData,
    compare,
    load_runs,
    metadata_diff,
    point_cases,
    runs_without,
)
from bench.analysis.stats import (
    MIN_PROCESSES_FOR_CI,
    within_processes,
)
from bench.catalogue.cases import GOROUTINE_CASE, SYSCALL_CASE, THREAD_CASE
from bench.errors import UsageError
from bench.render import compare_mood, html, timesplit
from bench.render import ladder as ladder_section
from bench.render import latency as tail
from bench.render.compare_figures import plot_memory, plot_ns, plot_ratio, plot_sweep
from bench.render.fmt import ci_range, code, kib, md, missing, ns, num
from bench.render.plot import images
from bench.results import read
from bench.results.schema import COMPARE_CSV
from bench.results.write import atomic_write, write_csv

# ---- the metadata diff ----------------------------------------------------------


# ---- figures --------------------------------------------------------------------


# ---- compare.md ----------------------------------------------------------------


def _ratio(value: float) -> str:
    return "—" if value != value else f"{value:.2f}×"


def _machine_lines(runs: list[RunData]) -> list[str]:
    lines = [
        "| run | goroutine switch | thread switch | thread ÷ goroutine | null system call "
        "| goroutine memory | thread memory |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        go, th, sc = (run.median(c) for c in (GOROUTINE_CASE, THREAD_CASE, SYSCALL_CASE))
        mem = run.memory
        per_kind = {}
        for kind in ("goroutine", "thread"):
            rows = read.memory_curve(mem, kind)
            per_kind[kind] = kib(rows.iloc[-1]["rss_bytes_per_unit"]) if not rows.empty else "—"
        lines.append(
            f"| {md(run.label)} | {ns(go)} | {ns(th)} | {_ratio(th / go)} | {ns(sc)} "
            f"| {per_kind['goroutine']} | {per_kind['thread']} |"
        )
    return lines


def _machines(runs: list[RunData]) -> list[str]:
    """The title, what differs between the machines, and the answer on each."""
    first = runs[0].label
    lines = [
        "# switchbench compare: " + " vs ".join(md(r.label) for r in runs),
        "",
        f"Each run is set against the first, **{md(first)}**. Written "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        "## What differs between the machines",
        "",
        "| | " + " | ".join(md(r.label) for r in runs) + " | differs |",
        "|---|" + "---|" * len(runs) + "---|",
    ]
    for name, values, differs in metadata_diff(runs):
        cells = " | ".join(md(v) for v in values)
        lines.append(f"| {md(name)} | {cells} | {'**yes**' if differs else ''} |")
    lines += ["", "## The answer on each machine", "", *_machine_lines(runs), ""]
    lines += [
        f"Goroutine switch is `{GOROUTINE_CASE}`, thread switch `{THREAD_CASE}`, null system "
        f"call `{SYSCALL_CASE}`; memory is resident bytes per parked unit at the largest "
        "count measured (threads under `ulimit -s` 8 MiB where measured).",
        "",
    ]
    return lines


def _differences(runs: list[RunData], table: pd.DataFrame, noise_band: float) -> list[str]:
    """How many cases differ significantly in each run, and what that means."""
    lines: list[str] = []
    others = range(1, len(runs))
    rated = table[table["run"] > 0]
    if len(runs) > 1:
        counts = []
        for i in others:
            mine = rated[rated["run"] == i]
            sig = mine[mine["significant"] == True]  # noqa: E712 (a column of True/False/None)
            judged = mine["significant"].notna().sum()
            # A ratio with a CI but no judgement rests on a within-process CI (verdict).
            unjudged = int((mine["significant"].isna() & mine["ratio_ci_low"].notna()).sum())
            counts.append(
                f"- {md(runs[i].label)}: {len(sig)} of {judged} cases differ significantly "
                f"({(sig['ratio_to_first'] > 1).sum()} slower, "
                f"{(sig['ratio_to_first'] < 1).sum()} faster)"
                + (
                    f"; {unjudged} more look different, but on a within-process CI: not judged."
                    if unjudged
                    else "."
                )
            )
        lines += ["## Differences", "", *counts, ""]
        lines += [
            "A case differs *significantly* when the 95% bootstrap CI of its median ratio "
            f"excludes 1 and the ratio is beyond the noise band of ±{noise_band:.0%} "
            "(`--noise-band`): a machine drifts between runs by more than a CI from within "
            "one run can see, most on a shared VM, so a CI alone would call many cases of "
            "two runs of one machine different.",
            "",
        ]
        few = [
            within_processes(p)
            for run in runs
            for p in run.summary.loc[
                (run.summary["status"] == "ok") & run.summary["ci_low"].notna(), "processes"
            ]
        ]
        if any(few):
            marks = " or ".join(f"*{w}*" for w in sorted({w for w in few if w}))
            lines += [
                f"A CI marked {marks} rests on fewer than {MIN_PROCESSES_FOR_CI} worker "
                "processes: it covers only how the values scatter inside them, not how "
                "processes differ, and separate runs will differ by more than that interval "
                "(a quick run's one process can land far from the next one's). A ratio "
                "resting on such a CI, on either side, is shown with its direction "
                "(*looks slower*, *looks faster*) but never called significant.",
                "",
            ]
    return lines


def _every_case(runs: list[RunData], table: pd.DataFrame) -> list[str]:
    """Every case's median in each run, its ratio to the first and the verdict."""
    lines: list[str] = []
    first, others = runs[0].label, range(1, len(runs))
    header = ["case", f"{md(first)}"]
    for i in others:
        header += [md(runs[i].label), "ratio (95% CI)", "verdict"]
    lines += [
        "## Every case",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (1 + 3 * len(others)),
    ]
    for case, rows in table.groupby("case", sort=False):
        by_run = {int(r["run"]): r for _, r in rows.iterrows()}
        cells = [f"{code(case)}"]
        for i in range(len(runs)):
            r = by_run[i]
            listed = runs[i].ok_row(str(case))
            ci = ci_range(r["ci_low"], r["ci_high"])
            scope = "" if listed is None or ci == "—" else within_processes(listed["processes"])
            cells.append(
                f"{ns(r['ns_per_switch'])} ({ci}{', ' + scope if scope else ''})"
                if r["status"] == "ok"
                else md(r["verdict"])
            )
            if i == 0:
                continue
            cells.append(
                f"{_ratio(r['ratio_to_first'])} "
                f"({ci_range(r['ratio_ci_low'], r['ratio_ci_high'], _ratio)})"
                if not missing(r["ratio_to_first"])
                else "—"
            )
            cells.append(
                f"**{md(r['verdict'])}**" if r["significant"] is True else md(r["verdict"])
            )
        lines.append("| " + " | ".join(cells) + " |")
    only = table.groupby("case", sort=False)["status"].apply(lambda s: (s == "absent").any())
    if only.any():
        lines += ["", "Cases missing from some runs (listed above as *not in this run*): "]
        lines.append(", ".join(f"{code(c)}" for c in only[only].index) + ".")
    return lines


def _normalised(runs: list[RunData], table: pd.DataFrame) -> list[str]:
    """Cycles per switch and the multiples of the null system call and the goroutine switch."""
    lines: list[str] = []
    lines += [
        "",
        "## Normalised: what travels between machines",
        "",
        "Cycles are ns per switch times the run's clock rate (from the cycles counter where "
        "the machine has one: each case's counted cycles over its task-clock time, whose "
        "median over the cases the table at the top shows; else the clock rate measured at "
        "the start of the run on a chain of dependent additions, else the one the kernel "
        "reports; the table at the top says which). The multiples divide by the same run's "
        "null system call "
        f"(`{SYSCALL_CASE}`) and by its goroutine switch (`{GOROUTINE_CASE}`).",
        "",
        "| case | "
        + " | ".join(f"{md(r.label)}: cycles · × syscall · × go.chan.p1" for r in runs)
        + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for case in point_cases(table, runs):
        rows = table[table["case"] == case].set_index("run")
        cells = []
        for i in range(len(runs)):
            r = rows.loc[i]
            cells.append(
                f"{num(r['cycles_per_switch'], 3)} · {num(r['x_null_syscall'], 3)} "
                f"· {num(r['x_go_chan_p1'], 3)}"
                if r["status"] == "ok"
                else "—"
            )
        lines.append(f"| {code(case)} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _overlaid(runs: list[RunData], figures: dict[str, list[Path]]) -> list[str]:
    """The sweeps' and memory's figures, every run on one."""
    lines: list[str] = []
    for key, title in (
        ("pairs", "Scaling, overlaid"),
        ("ring", "Working set, overlaid"),
        ("memory", "Memory, overlaid"),
    ):
        if figures[key]:
            lines += [f"## {title}", "", *images(figures[key], title)]
            missing = runs_without(runs, key)
            if missing:
                lines += [
                    f"No data for this figure in {', '.join(md(m) for m in missing)}: it "
                    "shows the other runs only.",
                    "",
                ]
    return lines


def render_markdown(
    runs: list[RunData],
    table: pd.DataFrame,
    figures: dict[str, list[Path]],
    noise_band: float = NOISE_BAND,
) -> str:
    """compare.md's text: the sections in order."""
    lines = _machines(runs)
    lines += _differences(runs, table, noise_band)
    lines += images(figures["ns"], "ns per switch on each machine")
    lines += images(figures["ratio"], "ratio to the first run")
    lines += _every_case(runs, table)
    lines += compare_mood.section_lines(runs, table, noise_band)
    lines += _normalised(runs, table)
    lines += ladder_section.compare_lines(
        [r.label for r in runs], [r.summary for r in runs], figures.get("ladder", [])
    )
    lines += _overlaid(runs, figures)
    lines += tail.compare_lines(
        [r.label for r in runs], [r.folder for r in runs], figures.get("latency", [])
    )
    lines += timesplit.compare_lines(
        [(r.label, r.timesplit) for r in runs], figures.get("timesplit", [])
    )
    lines += [
        "## Files",
        "",
        "compare.csv holds every figure above, one row per case and run. For pyperf's own "
        "view of the same samples: "
        "`.venv/bin/python -m pyperf compare_to A/suite.json B/suite.json --table`.",
        "",
    ]
    return "\n".join(lines)


# Every file `write_comparison` writes.
FIGURE_STEMS = (
    "compare_ns_per_switch",
    "compare_ratio",
    "compare_sweep_pairs",
    "compare_sweep_ring",
    "compare_memory",
    tail.COMPARE_FIGURE_STEM,
    timesplit.COMPARE_FIGURE_STEM,
    ladder_section.COMPARE_STEM,
)


def _create_out(out: Path) -> bool:
    """Make the --out folder, or take an existing empty one; True when it was made here.
    A non-empty or symlinked --out is refused: a comparison never overwrites files."""
    if out.is_symlink():
        raise UsageError(
            f"--out {out} is a symbolic link; give a new folder (compare never writes "
            "through a link)"
        )
    if out.exists():
        if not out.is_dir() or any(out.iterdir()):
            raise UsageError(
                f"--out {out} already exists and is not an empty folder; name a new one"
            )
        return False
    try:
        out.mkdir(parents=True)
    except OSError as e:
        raise UsageError(
            f"cannot create {out}: {e.strerror or e}; choose --out elsewhere"
        ) from None
    return True


def write_comparison(folders: list[Path], out: Path, noise_band: float = NOISE_BAND) -> Path:
    """Check every folder, then compare them into `out` (new, or empty); returns
    compare.md's path. A folder that fails its checks writes nothing."""
    runs = load_runs(folders)
    made = _create_out(out)
    try:
        table = compare(runs, noise_band)
        figures = {
            "ns": plot_ns(table, runs, out),
            "ratio": plot_ratio(table, runs, out, noise_band),
            "pairs": plot_sweep(table, runs, "pairs", out),
            "ring": plot_sweep(table, runs, "ring", out),
            "memory": plot_memory(runs, out),
            "latency": tail.plot_compare_cdf(
                [r.label for r in runs], [r.folder for r in runs], out
            ),
            "timesplit": timesplit.plot_compare([(r.label, r.timesplit) for r in runs], out),
            "ladder": ladder_section.plot_compare(
                [r.label for r in runs], [r.summary for r in runs], out
            ),
        }
        write_csv(table, out / COMPARE_CSV)
        text = render_markdown(runs, table, figures, noise_band)
        md_path = atomic_write(out / "compare.md", text)
        drawn = [p for paths in figures.values() for p in paths]
        html.write(text, out, "compare.html", "switchbench compare", drawn)
    except BaseException:
        if made:  # nothing half-written is left behind
            shutil.rmtree(out, ignore_errors=True)
        raise
    return md_path
