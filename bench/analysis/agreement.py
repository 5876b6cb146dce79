"""agreement.csv rows → one row per comparison.

The medians, their ratio with a bootstrap CI, and whether they agree.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.analysis.stats import AGREE_WITHIN, BOOTSTRAP_RESAMPLES, percentile_ci
from bench.measure.agree import PAIRS, SUITE, TOOL
from bench.render.fmt import missing, number
from bench.results.schema import AGREEMENT_COLUMNS

SUMMARY_COLUMNS = [
    "comparison",
    "tool",
    "rounds",
    "round_trips",
    "cpu",
    "switchbench_ns",
    "tool_ns",
    "ratio",
    "ci_low",
    "ci_high",
    "agree",
]

# Below this many paired rounds a bootstrap over rounds says nothing (it can only
# reshuffle one or two values): the CI is then left empty.
MIN_ROUNDS_FOR_CI = 3
SEED = 0


def _tool_words(comparison: str) -> str:
    pair = next((p for p in PAIRS if p.case == comparison), None)
    return TOOL if pair is None else " ".join([TOOL, *pair.args])


def _single(values: pd.Series) -> float:
    """The one value a column holds for a comparison; NaN where it holds several."""
    unique = values.dropna().unique()
    return float(unique[0]) if len(unique) == 1 else math.nan


def ratio_ci(suite: np.ndarray, tool: np.ndarray, seed: int = SEED) -> tuple[float, float]:
    """95% CI of median(suite) / median(tool) by a paired bootstrap: rounds (the
    i-th value of each) are drawn with replacement, since the two sources were run
    side by side in each round and share that round's conditions."""
    suite, tool = np.asarray(suite, dtype=float), np.asarray(tool, dtype=float)
    ratio = float(np.median(suite) / np.median(tool))
    if len(suite) < MIN_ROUNDS_FOR_CI:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, len(suite), size=(BOOTSTRAP_RESAMPLES, len(suite)))
    resampled = np.median(suite[picked], axis=1) / np.median(tool[picked], axis=1)
    return percentile_ci(ratio, resampled)


def agrees(ratio: float) -> str:
    """'yes' or 'no' on AGREE_WITHIN; '' where no ratio could be formed."""
    if missing(ratio) or not math.isfinite(ratio):
        return ""
    return "yes" if abs(ratio - 1) <= AGREE_WITHIN + 1e-12 else "no"


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per comparison (PAIRS' order first): each source's median ns per switch over
    the rounds both sources have, their ratio suite / tool with its paired bootstrap
    CI, and whether it is within ±AGREE_WITHIN. Cells may be text (agreement.csv as
    a folder reader gives it): whatever is not a number is left out."""
    frame = rows.copy()
    for column in AGREEMENT_COLUMNS:
        if column not in frame.columns:
            frame[column] = math.nan
    for column in ("round", "round_trips", "ns_per_switch", "cpu"):
        frame[column] = frame[column].map(number)
    frame["comparison"] = frame["comparison"].astype(str)
    frame["source"] = frame["source"].astype(str)
    usable = frame[(frame["ns_per_switch"] > 0) & frame["round"].notna()]
    known = [p.case for p in PAIRS]
    seen = list(dict.fromkeys(frame["comparison"]))
    order = [c for c in known if c in seen] + [c for c in seen if c not in known]
    out = []
    for comparison in order:
        mine = usable[usable["comparison"] == comparison]
        # A round's value per source (the median, should a round appear twice).
        by_round = mine.groupby(["round", "source"])["ns_per_switch"].median().unstack()
        for source in (SUITE, TOOL):
            if source not in by_round.columns:
                by_round[source] = math.nan
        paired = by_round[[SUITE, TOOL]].dropna()
        row = dict.fromkeys(SUMMARY_COLUMNS, math.nan)
        row.update(comparison=comparison, tool=_tool_words(comparison), agree="")
        row.update(
            rounds=len(paired),
            round_trips=_single(mine["round_trips"]),
            cpu=_single(mine["cpu"]),
        )
        if len(paired):
            suite, tool = paired[SUITE].to_numpy(), paired[TOOL].to_numpy()
            ratio = float(np.median(suite) / np.median(tool))
            low, high = ratio_ci(suite, tool)
            row.update(
                switchbench_ns=float(np.median(suite)),
                tool_ns=float(np.median(tool)),
                ratio=ratio,
                ci_low=low,
                ci_high=high,
                agree=agrees(ratio),
            )
        out.append(row)
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)
