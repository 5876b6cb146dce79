"""Several runs' samples and hosts → compare's "At one canary level" section.

Two runs of one machine can be set side by side with each case's values moved to one
common canary level (bench.analysis.mood), so that a difference the machine's mood made
between the runs is taken out. Across machines the canary is itself a hardware
difference (other caches, other memory), so runs of different machines show their
canary but are not adjusted. Runs without the canary (made before it) show nothing.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.analysis.comparison import RunData, metadata_diff, point_cases
from bench.analysis.mood import adjusted_at, common_levels, reference_level
from bench.render.fmt import code, md, ns

# The host facts that make two runs "the same machine" for the canary: what sets its
# latency. The clock, kernel and tool versions may differ between runs of one machine.
HARDWARE_FACTS = ("CPU", "logical CPUs (usable)", "physical cores", "caches (CPU 0)")


def _same_machine(runs: list[RunData]) -> bool:
    return not any(differs for name, _, differs in metadata_diff(runs) if name in HARDWARE_FACTS)


def _half(median: float, low: float, high: float) -> str:
    if math.isnan(median):
        return "—"
    if math.isnan(low):
        return ns(median)
    return f"{ns(median)} ±{(high - low) / 2 / median:.1%}"


def section_lines(runs: list[RunData], table: pd.DataFrame) -> list[str]:
    levels = [reference_level(r.samples) for r in runs]
    if all(math.isnan(x) for x in levels):
        return []
    lines = [
        "## At one canary level",
        "",
        "The mood canary's median in each run (ns per load of the same pointer chase, "
        "README: *How noisy was this machine*): "
        + ", ".join(f"{md(r.label)} {ns(x)}" for r, x in zip(runs, levels, strict=True))
        + ".",
        "",
    ]
    if any(math.isnan(x) for x in levels):
        return [*lines, "Not every run measured the canary: no common level to adjust to.", ""]
    if not _same_machine(runs):
        return [
            *lines,
            "The runs come from different hardware (see *What differs*), where the canary "
            "is itself a hardware difference: the runs are not adjusted to one level.",
            "",
        ]
    samples = [r.samples for r in runs]
    level = reference_level(pd.concat(samples, ignore_index=True))
    lines += [
        f"One machine: each case's values moved to the runs' common canary level, "
        f"{ns(level)} per load (and, where the CPU share is in a case's fit, to the "
        "case's median share over the runs): the adjusted median and its CI's half-width "
        "in **bold** where the adjustment is trusted for that run; elsewhere the raw "
        "median, with the adjusted figure in brackets.",
        "",
        "| case | " + " | ".join(md(r.label) for r in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for case in point_cases(table, runs):
        cells = []
        levels = common_levels(samples, case)
        for run in runs:
            a = adjusted_at(run.samples, case, levels)
            adjusted = _half(a.adjusted_ns, a.ci_low, a.ci_high)
            raw = ns(run.median(case))
            cells.append(f"**{adjusted}**" if a.trusted else f"{raw} raw ({adjusted}, not trusted)")
        lines.append(f"| {code(case)} | " + " | ".join(cells) + " |")
    return [*lines, ""]
