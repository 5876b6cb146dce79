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
from bench.analysis.mood import reference_level
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
    ratios = mood_compare.headline_ratios(runs, table)
    if ratios.empty:
        return [*lines, "No case was measured in both of the first two runs.", ""]
    beta = ratios.attrs.get("beta", math.nan)
    slope = (
        "could not be fitted (too few cases on one CPU in both runs, or no canary shift)"
        if math.isnan(beta)
        else f"{beta:.2f} (95% CI {ratios.attrs['beta_low']:.2f} – {ratios.attrs['beta_high']:.2f})"
    )
    lines += [
        "One machine: the second run set beside the first at one canary level. The warmed "
        "canary is a latency in ns: when the machine's CPUs run slower or faster between "
        "two runs, it moves with every switch that keeps one CPU busy. Each such case's "
        "ratio is divided by its canary's ratio raised to the machine's slope, fitted "
        f"across those cases through the origin: {slope}. The CI resamples both runs' "
        "values and canaries and the cases the slope rests on. Cases spread over CPUs and "
        "sweep points keep their raw ratio (the scheduler, not the clock, moves them). "
        f"Verdicts at the ±{noise_band:.0%} band.",
        "",
        "| case | canary ratio | raw ratio (95% CI) | at one level (95% CI) |",
        "|---|---:|---|---|",
    ]
    for case in point_cases(table, runs):
        if case not in ratios.index:
            continue
        r = ratios.loc[case]
        lines.append(
            f"| {code(case)} | {_number(r['canary_ratio'])} | "
            f"{_ratio(r['raw_ratio'], r['raw_low'], r['raw_high'], noise_band)} | "
            + (_ratio(r["ratio"], r["low"], r["high"], noise_band) if r["adjusted"] else "raw")
            + " |"
        )
    return [*lines, "", *_band_lines(ratios, noise_band)]


def _number(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:.3f}"


def _ratio(ratio: float, low: float, high: float, noise_band: float) -> str:
    words = verdict(ratio, low, high, noise_band)[1]
    ci = "" if math.isnan(low) else f" ({low:.3f} – {high:.3f})"
    return f"{ratio:.3f}{ci}: {words}"


def _band_lines(ratios: pd.DataFrame, noise_band: float) -> list[str]:
    """How far apart the two runs are, raw and at one level, and the bands they
    support: over every case judged, and over the cases on one CPU."""
    on_one = ratios[ratios["adjusted"]]
    lines = []
    for title, subset in (("every case judged", ratios), ("the cases on one CPU", on_one)):
        if subset.empty:
            continue
        by_band = mood_compare.agreement_by_band(subset)
        raw_mid, raw_p90 = mood_compare.spread(subset, "raw_ratio")
        mid, p90 = mood_compare.spread(subset, "ratio")
        bands = {c: mood_compare.supported_band(by_band, c) for c in ("raw", "headline")}
        shown = {c: "none of them" if math.isnan(b) else f"±{b:.0%}" for c, b in bands.items()}
        lines += [
            f"**How far apart the runs are: {title}** ({len(subset)}). The second run "
            f"differs from the first by {raw_mid:.1%} in the median case and {raw_p90:.1%} "
            f"at the 90th percentile, raw; at one canary level, {mid:.1%} and {p90:.1%}. "
            "Cases called the same (not significantly different) at each band:",
            "",
            "| band | raw | at one level |",
            "|---|---:|---:|",
            *(
                f"| ±{row['band']:.0%} | {int(row['raw'])} | {int(row['headline'])} |"
                for _, row in by_band.iterrows()
            ),
            "",
            f"The narrowest band that calls at least {mood_compare.SUPPORTED_SHARE:.0%} of "
            f"them the same: {shown['raw']} raw, {shown['headline']} at one level.",
            "",
        ]
    return [*lines, f"(compare judged at ±{noise_band:.0%}; `--noise-band` sets it.)", ""]
