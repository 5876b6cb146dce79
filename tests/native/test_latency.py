"""The latency step on this machine, at small hand-off counts: every case measured or
skipped with its reason, percentiles ordered, every hand-off counted."""

from __future__ import annotations

import pytest

from bench.measure import latency

RUNS, HANDOFFS = 2, 1000


@pytest.fixture(scope="module")
def measured(artifacts):
    said: list[str] = []
    rows, hist = latency.measure(artifacts, RUNS, HANDOFFS, said.append)
    return rows, hist, said


def test_every_case_has_a_row(measured):
    rows, _, said = measured
    assert list(rows["case"]) == list(latency.CASES)
    assert len(said) == len(latency.CASES)
    for _, row in rows.iterrows():
        assert row["status"] in ("ok", "skipped"), (row["case"], row["reason"])
        if row["status"] == "skipped":
            assert str(row["reason"]).strip()


def test_percentiles_are_ordered(measured):
    rows, _, _ = measured
    ok = rows[rows["status"] == "ok"]
    assert not ok.empty
    for _, row in ok.iterrows():
        chain = [row[c] for c in ("min_ns", "p50_ns", "p90_ns", "p99_ns", "p99_9_ns", "max_ns")]
        assert chain == sorted(chain), row["case"]
        assert row["min_ns"] > 0
        assert row["p50_ci_low"] <= row["p50_ns"] <= row["p50_ci_high"], row["case"]
        assert row["p99_ci_low"] <= row["p99_ns"] <= row["p99_ci_high"], row["case"]
        assert row["handoffs"] == RUNS * HANDOFFS and row["runs"] == RUNS
        assert row["clock_ns"] > 0


def test_histogram_holds_every_handoff(measured):
    rows, hist, _ = measured
    per_case = hist.groupby("case")["count"].sum()
    for _, row in rows[rows["status"] == "ok"].iterrows():
        assert per_case[row["case"]] == row["handoffs"]


def test_go_cases_carry_the_runtime_histogram(measured):
    rows, _, _ = measured
    for _, row in rows[(rows["lang"] == "go") & (rows["status"] == "ok")].iterrows():
        assert row["runtime_events"] > 0, row["runtime_note"]
        assert row["runtime_p50_ns"] <= row["runtime_p99_ns"]
    for _, row in rows[rows["lang"] == "c"].iterrows():
        assert row["runtime_p50_ns"] != row["runtime_p50_ns"]  # NaN: not a goroutine case
