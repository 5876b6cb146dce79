"""overhead.csv's rows and the run's summary.csv → each row with the suite's figure
beside it (OVERHEAD_SUITE_COLUMNS) and suite / minimal.

The overhead step measures the minimal loops before the run's summary exists, so the
suite's side is joined here, when the report is built, from the same folder.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.render.fmt import number
from bench.results.schema import OVERHEAD_SUITE_COLUMNS


def _suite(summary: pd.DataFrame, case: str) -> dict[str, object]:
    """The suite's figure for case: its status, and its ns with CI (NaN unless ok)."""
    out: dict[str, object] = {"suite_status": "absent", "suite_ns": math.nan}
    out.update(suite_ci_low=math.nan, suite_ci_high=math.nan)
    if summary.empty or not {"case", "status", "ns_per_switch"}.issubset(summary.columns):
        return out
    rows = summary[summary["case"] == case]
    if rows.empty:
        return out
    row = rows.iloc[0]
    out["suite_status"] = str(row["status"])
    if row["status"] != "ok":
        return out
    for mine, theirs in (
        ("suite_ns", "ns_per_switch"),
        ("suite_ci_low", "ci_low"),
        ("suite_ci_high", "ci_high"),
    ):
        if theirs in summary.columns:
            out[mine] = number(row[theirs])
    return out


def with_suite(overhead: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """A copy of overhead with the suite's columns: for a row naming a suite case, that
    case's figure from summary and suite / minimal where both are positive."""
    rows = []
    for row in overhead.to_dict("records"):
        row.update(dict.fromkeys(OVERHEAD_SUITE_COLUMNS, math.nan))
        suite_case = row.get("suite_case")
        if isinstance(suite_case, str) and suite_case:
            row.update(_suite(summary, suite_case))
            suite_ns, minimal_ns = number(row["suite_ns"]), number(row.get("minimal_ns"))
            if suite_ns > 0 and minimal_ns > 0:
                row["ratio"] = suite_ns / minimal_ns
        rows.append(row)
    return pd.DataFrame(rows, columns=[*overhead.columns, *OVERHEAD_SUITE_COLUMNS])
