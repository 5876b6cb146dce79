"""A run folder → report.md, report.html and the figures.

The report is a list of sections, each from its own module (answer, precision,
counters, memory, system, host_facts, sweeps; overhead, agree and leaks for their
steps). It reads only the folder's files, so a report can be rebuilt anywhere with
`switchbench report RUN_DIR`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.analysis import agreement
from bench.measure.agree import TOOL
from bench.render import agree, cases_table, html, leaks, overhead, sweeps, timesplit
from bench.render import claims as claims_section
from bench.render import ladder as ladder_section
from bench.render import latency as tail
from bench.render.answer import (
    FIGURE_STEM,
    condvar_section,
    headline,
    miss_section,
    plot_ns_per_switch,
)
from bench.render.counters import counter_section
from bench.render.fmt import code
from bench.render.fmt import md as _md
from bench.render.host_facts import host_lines
from bench.render.memory import memory_headline, memory_section, plot_memory
from bench.render.mood import FIGURE_STEM as MOOD_STEM
from bench.render.mood import mood_section, plot_mood
from bench.render.plot import images
from bench.render.precision import precision_section, within_process_note
from bench.render.system import plot_system, system_section
from bench.results import read, schema
from bench.results.write import atomic_write, refuse_symlink, refuse_symlinked_folder

Figures = dict[str, list[Path]]

# The steps a run makes beside its cases: run.json's flag, the file each writes, in words.
RUN_STEPS = (
    ("memory", schema.MEMORY_CSV, "goroutine and thread memory"),
    ("leaks", schema.LEAKS_CSV, "the goroutine-leak scenarios"),
    ("overhead", schema.OVERHEAD_CSV, "the timer and the minimal harness-free loops"),
    ("agreement", schema.AGREEMENT_CSV, f"the pipe cases against {TOOL}"),
    ("latency", schema.LATENCY_CSV, "the latency of single hand-offs"),
    ("timesplit", schema.TIMESPLIT_CSV, "where the time of one switch goes"),
)


def _agreement_lines(data: read.Folder) -> list[str]:
    """The check against perf bench sched pipe: its table, or why it measured nothing;
    nothing for a run that did not ask for it."""
    if data.agreement is not None:
        return agree.section_lines(agreement.summarise(data.agreement), None)
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
            "latency": data.latency is not None,
            "timesplit": data.timesplit is not None,
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
    lines += overhead.section_lines(data.overhead, data.summary)
    lines += _agreement_lines(data)
    lines += _tail(data, figures)
    lines += memory_section(data, figures)
    lines += leaks.section_lines(data.leaks)
    lines += timesplit.section_lines(data.timesplit, figures)
    lines += ["## Host", "", *host_lines(data.host), ""]
    return lines


def _title(data: read.Folder) -> list[str]:
    host, run = data.host, data.run
    return [
        f"# switchbench run {_md(data.path.name)}",
        "",
        f"{_md(host.get('cpu_model'))}, {_md(host.get('logical_cpus'))} logical CPUs, "
        f"Linux {_md(host.get('kernel'))}. Profile {code(run.get('profile'))}, "
        f"started {_md(run.get('started_utc'))}, took {run.get('wall_s') or 0:.0f} s, "
        f"status: {_md(run.get('status'))}.",
    ]


def _answer(data: read.Folder, figures: Figures) -> list[str]:
    summary = data.summary
    lines = ["", "## The answer", "", *headline(summary), *memory_headline(data.memory), ""]
    lines += images(figures.get("main", []), "ns per switch for each case")
    return lines + miss_section(summary)


def _cases(data: read.Folder, figures: Figures) -> list[str]:
    return [*cases_table.all_cases(data.summary), *within_process_note(data.summary), ""]


def _host(data: read.Folder, figures: Figures) -> list[str]:
    return ["## Host", "", *host_lines(data.host), ""]


def _tail(data: read.Folder, figures: Figures) -> list[str]:
    asked = bool(data.run.get("latency"))
    return tail.section_lines(data.latency, figures.get("latency", []), asked)


# The report's sections, in order, each a function of the folder and its figures.
SECTIONS: tuple[Callable[[read.Folder, Figures], list[str]], ...] = (
    lambda data, figures: claims_section.section_lines(data),
    _answer,
    lambda data, figures: ladder_section.section_lines(data.summary, figures),
    _cases,
    lambda data, figures: condvar_section(data.summary),
    lambda data, figures: precision_section(data.summary),
    lambda data, figures: overhead.section_lines(data.overhead, data.summary),
    lambda data, figures: _agreement_lines(data),
    _tail,
    lambda data, figures: timesplit.section_lines(data.timesplit, figures),
    lambda data, figures: sweeps.section_lines(data.summary, figures),
    memory_section,
    lambda data, figures: leaks.section_lines(data.leaks),
    lambda data, figures: system_section(data.system, figures),
    lambda data, figures: mood_section(data.samples, data.summary, figures, data.run),
    lambda data, figures: counter_section(data.summary, data.host),
    lambda data, figures: cases_table.not_measured(data.summary),
    lambda data, figures: cases_table.what_the_cases_are(data.summary),
    lambda data, figures: cases_table.how_to_read(),
    _host,
)


def render_markdown(data: read.Folder, figures: Figures) -> str:
    """report.md's text for a checked folder and the figures just drawn."""
    lines = _title(data)
    if data.summary.empty:  # no case selected: only the steps it ran
        return "\n".join(lines + _steps_only(data, figures))
    for section in SECTIONS:
        lines += section(data, figures)
    return "\n".join(lines)


# Every file `write_report` writes into a folder, checked before any is written.
FIGURE_STEMS = (FIGURE_STEM, "sweep_pairs", "sweep_ring", "system_ctxt", "memory")
FIGURE_STEMS += (tail.FIGURE_STEM,)
FIGURE_STEMS += (timesplit.FIGURE_STEM,)
FIGURE_STEMS += (ladder_section.FIGURE_STEM,)
FIGURE_STEMS += (MOOD_STEM,)
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
        "latency": tail.plot_cdf(folder, data.latency, data.latency_hist),
        "timesplit": timesplit.plot(data.timesplit, folder),
        "ladder": ladder_section.plot(summary, folder),
        "mood": plot_mood(folder, data.run, data.samples) if not summary.empty else [],
    }
    text = render_markdown(data, figures)
    out = atomic_write(folder / "report.md", text)
    drawn = [p for paths in figures.values() for p in paths]
    html.write(text, folder, "report.html", f"switchbench run {folder.name}", drawn)
    return out
