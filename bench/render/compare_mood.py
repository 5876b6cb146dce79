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

from bench.analysis import mood_compare
from bench.analysis.comparison import NOISE_BAND, RunData, metadata_diff, point_cases, verdict
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


def section_lines(
    runs: list[RunData], table: pd.DataFrame, noise_band: float = NOISE_BAND
) -> list[str]:
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
    lines += [
        "One machine: each case's values moved to common levels, the case's median canary "
        "and (where the CPU share is in its fit) median share over the runs: the adjusted "
        "median and its CI's half-width in **bold** where the adjustment is trusted for "
        "that run; elsewhere the raw "
        "median, with the adjusted figure in brackets. *at one level* is the second run "
        "over the first: the adjusted medians' ratio where both are trusted (its CI from "
        "both adjustments' bootstrap draws), else compare's raw one, and the verdict at "
        f"the ±{noise_band:.0%} band.",
        "",
        "| case | " + " | ".join(md(r.label) for r in runs) + " | at one level |",
        "|---|" + "---|" * (len(runs) + 1),
    ]
    ratios = mood_compare.headline_ratios(runs, table)
    for case in point_cases(table, runs):
        cells = []
        case_levels = common_levels(samples, case)
        for run in runs:
            a = adjusted_at(run.samples, case, case_levels)
            adjusted = _half(a.adjusted_ns, a.ci_low, a.ci_high)
            raw = ns(run.median(case))
            cells.append(f"**{adjusted}**" if a.trusted else f"{raw} raw ({adjusted}, not trusted)")
        cells.append(_ratio_cell(ratios, case, noise_band))
        lines.append(f"| {code(case)} | " + " | ".join(cells) + " |")
    return [*lines, "", *_band_lines(ratios, noise_band)]


def _ratio_cell(ratios: pd.DataFrame, case: str, noise_band: float) -> str:
    if case not in ratios.index:
        return "—"
    r = ratios.loc[case]
    words = verdict(r["ratio"], r["low"], r["high"], noise_band)[1]
    kind = "adjusted" if r["adjusted"] else "raw"
    return f"{r['ratio']:.3f} ({r['low']:.3f} – {r['high']:.3f}, {kind}): {words}"


def _band_lines(ratios: pd.DataFrame, noise_band: float) -> list[str]:
    """How far apart the two runs are, raw and at one level, and the band they support."""
    if ratios.empty:
        return []
    by_band = mood_compare.agreement_by_band(ratios)
    raw_mid, raw_p90 = mood_compare.spread(ratios, "raw_ratio")
    mid, p90 = mood_compare.spread(ratios, "ratio")
    bands = {c: mood_compare.supported_band(by_band, c) for c in ("raw", "headline")}
    shown = {c: "none of them" if math.isnan(b) else f"±{b:.0%}" for c, b in bands.items()}
    lines = [
        f"**How far apart the runs are.** Over the {len(ratios)} cases judged, the second "
        f"run differs from the first by {raw_mid:.1%} in the median case and {raw_p90:.1%} "
        f"at the 90th percentile on the raw medians; at one level, {mid:.1%} and "
        f"{p90:.1%} ({int(ratios['adjusted'].sum())} cases adjusted in both runs). Cases "
        "called the same (not significantly different) at each band:",
        "",
        "| band | raw | at one level |",
        "|---|---:|---:|",
    ]
    for _, row in by_band.iterrows():
        lines.append(f"| ±{row['band']:.0%} | {int(row['raw'])} | {int(row['headline'])} |")
    lines += [
        "",
        f"The narrowest band at which at least {mood_compare.SUPPORTED_SHARE:.0%} of the "
        f"cases are called the same: {shown['raw']} raw, {shown['headline']} at one level "
        f"(compare used ±{noise_band:.0%}; `--noise-band` sets it).",
        "",
    ]
    return lines
