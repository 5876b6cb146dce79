"""One summary.csv row → its table cells, as report.md and its sections write them.

Table cells for one summary.csv row, as report.md and its sections write them."""

from __future__ import annotations

import math

import pandas as pd

from bench.analysis import stats
from bench.analysis import summary as analyse
from bench.catalogue.expect import range_text
from bench.render.fmt import ci_range, md, ns, num


def ci(row: pd.Series, in_parentheses: bool = False) -> str:
    """The CI's bounds, and "(within one process)" when it rests on fewer worker
    processes than stats.MIN_PROCESSES_FOR_CI: then it covers only those (", within
    one process" where the CI already stands in parentheses)."""
    if math.isnan(row["ci_low"]):
        return "—"
    scope = stats.within_processes(row.get("processes"))
    if scope:
        scope = f", {scope}" if in_parentheses else f" ({scope})"
    return f"{ci_range(row['ci_low'], row['ci_high'])}{scope}"


def per_unit(row: pd.Series) -> str:
    """A cell's figure with its unit, when the case's unit is not a switch."""
    unit = row.get("unit", "switch")
    text = ns(row["ns_per_switch"])
    return text if unit in ("switch", None) or unit != unit else f"{text} per {md(unit)}"


def expected(row: pd.Series) -> str:
    """The expected OS switches per switch, with the range it was checked against where
    the summary names it: '1 (0.5' en dash '1.5)'."""
    text = num(row["expected_os_ctx_switches_per_switch"], 3)
    bounds = analyse.check_range(row["os_ctx_check"])
    return text if bounds is None else f"{text} ({range_text(*bounds)})"


def check_cell(check: object) -> str:
    verdict = analyse.check_verdict(check)
    return "**MISS**" if verdict == "MISS" else md(verdict or check)


def slope(row: pd.Series) -> str:
    """The regression slope with its 95% CI, or, from fewer processes than a CI needs,
    with the range of the single processes' slopes and their count."""
    value = row["slope_ns_per_switch"]
    if math.isnan(value):
        return "—"
    if not math.isnan(row["slope_ci_low"]):
        return f"{ns(value)} ({ns(row['slope_ci_low'])} – {ns(row['slope_ci_high'])})"
    low, high = row.get("slope_range_low", math.nan), row.get("slope_range_high", math.nan)
    if isinstance(low, float) and not math.isnan(low):
        count = int(row["processes"])
        return (
            f"{ns(value)} (range {ns(low)} – {ns(high)} over {count} "
            f"{'process' if count == 1 else 'processes'})"
        )
    return ns(value)


def is_sweep(summary: pd.DataFrame) -> pd.Series:
    """The rows of the sweeps' points (their own sections, not the cases' tables)."""
    return summary["sweep"] != ""
