"""switchbench compare: ratios, significance, the metadata diff and escaping.

The folders are made from the committed reference run (real samples from the
development machine), copied and changed in known ways."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.analysis import comparison, stats
from tests.conftest import copy_reference, scale_times


def test_a_copy_scaled_by_1_5_is_1_5x_slower_everywhere(tmp_path: Path) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    scale_times(b, 1.5)
    table = comparison.compare(comparison.load_runs([a, b]))
    rated = table[table["run"] == 1]
    measured = rated[rated["status"] == "ok"]
    assert len(measured) > 50
    assert np.allclose(measured["ratio_to_first"], 1.5, rtol=1e-9)
    # A case from fewer than 3 processes has a ratio with a CI, but one that sees only
    # those processes, so a difference on it is shown, not judged (tests/
    # test_few_processes.py makes such folders; the reference has none).
    processes = pd.read_csv(a / "summary.csv").set_index("case")["processes"]
    measured = measured.assign(few=measured["case"].map(processes) < stats.MIN_PROCESSES_FOR_CI)
    assert measured["ratio_ci_low"].notna().all()
    assert measured.loc[~measured["few"], "significant"].notna().all()
    assert (measured.loc[measured["few"], "significant"] != True).all()  # noqa: E712
    # Every case whose own median is known to ±20% must be called 1.5x slower. A case
    # that spreads wider (the unpinned ones are bimodal: same CPU or not, by chance)
    # cannot honestly be told from 1.5x noise by 20 samples, and need not be.
    base = table[table["run"] == 0].set_index("case")
    width = (base["ci_high"] - base["ci_low"]) / base["ns_per_switch"]
    tight = measured[measured["case"].map(width) < 0.2]
    assert len(tight) > 40
    few = tight[tight["few"]]
    shown = few["verdict"].str.fullmatch(
        r"looks slower \(CI within (one process|\d processes): not judged\)"
    )
    assert shown.all(), few.loc[~shown, "verdict"]
    tight = tight[~tight["few"]]
    assert len(tight) > 20
    assert (tight["significant"] == True).all(), tight[tight["significant"] != True]  # noqa: E712
    assert (tight["verdict"] == "slower").all()
    # A case that does not see the difference (judged so, or, on too few processes,
    # shown) is one whose own CI is too wide to tell 1.5x from its noise.
    seen = (measured["significant"] == True) | measured["verdict"].str.startswith("looks slower")  # noqa: E712
    assert (measured.loc[~seen, "case"].map(width) >= 0.2).all()
    assert (measured["ratio_ci_low"] <= 1.5).all() and (measured["ratio_ci_high"] >= 1.5).all()


def test_two_draws_from_one_machine_mostly_do_not_differ(tmp_path: Path) -> None:
    """B's samples are drawn (with replacement) from A's: the same machine, measured
    again. The compare must call at most a few of those cases different."""
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    samples = pd.read_csv(b / "samples.csv")
    rng = np.random.default_rng(7)
    timed = samples["kind"] == "timed"
    for _case, rows in samples[timed].groupby("case"):
        values = rows["ns_per_switch"].to_numpy()
        samples.loc[rows.index, "ns_per_switch"] = rng.choice(values, size=len(values))
    samples.to_csv(b / "samples.csv", index=False)
    table = comparison.compare(comparison.load_runs([a, b]))
    judged = table[(table["run"] == 1) & table["significant"].notna()]
    assert len(judged) > 50
    flagged = int((judged["significant"] == True).sum())  # noqa: E712
    assert flagged <= 0.1 * len(judged), judged[judged["significant"] == True]  # noqa: E712


def test_ratio_ci_brackets_the_ratio_and_is_deterministic() -> None:
    rng = np.random.default_rng(1)
    a = rng.lognormal(5, 0.05, 40)
    b = 2 * rng.lognormal(5, 0.05, 40)
    ratio, low, high = comparison.ratio_ci(a, b)
    assert low < ratio < high
    assert 1.8 < low and high < 2.2
    assert comparison.ratio_ci(a, b) == comparison.ratio_ci(a[::-1], b[::-1])
    assert np.isnan(comparison.ratio_ci(a[:2], b)[1])


def test_the_metadata_diff_names_what_differs(tmp_path: Path) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    host = json.loads((b / "host.json").read_text())
    host["kernel"] = "7.0.0-other"
    host["ulimit_s"]["soft_bytes"] = 1 << 20
    (b / "host.json").write_text(json.dumps(host))
    diff = {
        name: differs for name, _, differs in comparison.metadata_diff(comparison.load_runs([a, b]))
    }
    assert diff["kernel"] and diff["ulimit -s"]
    assert not diff["CPU"] and not diff["Go"]


@pytest.mark.parametrize(("scale", "differs"), [(1.02, False), (1.2, True)])
def test_a_measured_clock_differs_only_beyond_its_own_noise(
    tmp_path: Path, scale: float, differs: bool
) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    host = json.loads((b / "host.json").read_text())
    host["clock"]["ghz"] *= scale
    (b / "host.json").write_text(json.dumps(host))
    diff = {name: d for name, _, d in comparison.metadata_diff(comparison.load_runs([a, b]))}
    assert diff["clock (GHz)"] is differs
