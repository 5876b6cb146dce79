import json
import math

import numpy as np
import pandas as pd
import pyperf
import pytest

from bench.analysis import stats, tidy
from bench.analysis import summary as analyse
from bench.catalogue import cases
from bench.measure.worker import COUNTERS_METADATA
from bench.native.bridge import COUNTER_NAMES
from bench.render import fmt, report
from bench.results import schema
from bench.results.schema import SCHEMA_VERSION


def test_median_ci_brackets_the_median():
    rng = np.random.default_rng(1)
    values = rng.lognormal(mean=5, sigma=0.3, size=40)
    median, low, high = stats.median_ci(values)
    assert median == pytest.approx(np.median(values))
    # Strictly inside the sample's range, on both sides of the median, and narrower
    # with ten times the data (the CI is widened to hold the median, so "holds the
    # median" alone could never fail).
    assert values.min() < low < median < high < values.max()
    more = np.concatenate([values, rng.lognormal(mean=5, sigma=0.3, size=360)])
    _, more_low, more_high = stats.median_ci(more)
    assert more_high - more_low < 0.6 * (high - low)


def test_median_ci_is_undefined_for_too_few_values():
    median, low, high = stats.median_ci(np.array([3.0, 5.0]))
    assert median == 4.0 and math.isnan(low) and math.isnan(high)


def test_median_ci_scales_with_the_data():
    values = np.random.default_rng(2).normal(100, 5, size=30)
    m1, l1, h1 = stats.median_ci(values)
    m2, l2, h2 = stats.median_ci(values * 3)
    assert (m2, l2, h2) == pytest.approx((3 * m1, 3 * l1, 3 * h1))


def test_grouped_median_ci_widens_for_processes_at_levels_of_their_own():
    # Six worker processes, each at a level of its own with little spread inside:
    # the values of one process are not independent draws, so the grouped CI must
    # be wider than the one that treats all 60 values as independent.
    rng = np.random.default_rng(3)
    levels = rng.normal(100, 10, size=6)
    values = np.concatenate([rng.normal(level, 1, size=10) for level in levels])
    processes = np.repeat(np.arange(6), 10)
    _, low, high = stats.median_ci(values)
    _, glow, ghigh = stats.median_ci(values, processes)
    assert ghigh - glow > 1.5 * (high - low)


def test_grouped_median_ci_with_one_value_per_group_is_the_plain_bootstrap():
    values = np.random.default_rng(4).lognormal(5, 0.2, size=25)
    assert stats.median_ci(values, np.arange(25)[::-1]) == stats.median_ci(values)


def test_grouped_median_ci_ignores_order_and_labels():
    rng = np.random.default_rng(5)
    values = rng.normal(50, 5, size=24)
    processes = np.repeat([7, 3, 9, 1], 6)
    order = rng.permutation(24)
    relabelled = np.select([processes == k for k in (7, 3, 9, 1)], [0, 1, 2, 3])
    ci = stats.median_ci(values, processes)
    assert stats.median_ci(values[order], processes[order]) == ci
    assert stats.median_ci(values, relabelled) == ci


def _samples(case, ns, vol, invol, switches=1000):
    """Samples as bench.analysis.tidy writes them; perf counters unavailable unless a
    test sets them."""
    frame = pd.DataFrame(
        {
            "case": case,
            "process": [1 + i % 2 for i in range(len(ns))],
            "sample": range(1, len(ns) + 1),
            "kind": "timed",
            "ops": switches // 2,
            "switches": switches,
            "ns_per_switch": ns,
            "voluntary_ctx": vol,
            "involuntary_ctx": invol,
            "os_ctx_switches_per_switch": [
                (v + i) / switches for v, i in zip(vol, invol, strict=True)
            ],
        }
    )
    for name in COUNTER_NAMES:
        frame[name] = float("nan")
    return frame


def test_summary_counts_and_flags():
    go = _samples("go.chan.p1", [100.0, 110, 120, 130], [0, 0, 1, 0], [0, 0, 0, 0])
    # A "thread" case whose OS switches are far below its expectation must be flagged.
    c = _samples("c.condvar.same-core", [4000.0, 4100, 4200, 4300], [1, 2, 1, 0], [0, 0, 0, 0])
    summary = analyse.summarise(
        pd.concat([go, c]),
        [
            cases.get_case("go.chan.p1"),
            cases.get_case("c.condvar.same-core"),
            cases.get_case("c.condvar.cross-core"),
        ],
        {"c.condvar.cross-core": ("skipped", "needs 2 CPUs")},
    )
    rows = summary.set_index("case")
    assert list(summary.columns) == schema.SUMMARY_COLUMNS
    assert rows.loc["go.chan.p1", "ns_per_switch"] == 115
    assert rows.loc["go.chan.p1", "os_ctx_switches_per_switch"] == pytest.approx(1 / 4000)
    assert rows.loc["go.chan.p1", "os_ctx_check"] == "ok (0–0.01)"
    assert rows.loc["c.condvar.same-core", "os_ctx_check"] == "MISS (1.5–3.5)"
    assert analyse.check_verdict(rows.loc["c.condvar.same-core", "os_ctx_check"]) == "MISS"
    assert analyse.check_range(rows.loc["c.condvar.same-core", "os_ctx_check"]) == (1.5, 3.5)
    assert rows.loc["c.condvar.same-core", "ratio_to_go_chan_p1"] == pytest.approx(4150 / 115)
    assert rows.loc["c.condvar.cross-core", "status"] == "skipped"
    assert rows.loc["c.condvar.cross-core", "reason"] == "needs 2 CPUs"
    assert rows.loc["go.chan.p1", "samples"] == 4 and rows.loc["go.chan.p1", "processes"] == 2


def test_unreadable_counters_are_unavailable_not_zero(tmp_path):
    nan = float("nan")
    go = _samples("go.chan.p1", [100.0, 110, 120], [nan, nan, nan], [nan, nan, nan])
    summary = analyse.summarise(go, [cases.get_case("go.chan.p1")], {})
    row = summary.iloc[0]
    assert math.isnan(row["os_ctx_switches_per_switch"])
    assert analyse.check_verdict(row["os_ctx_check"]) == "unavailable"
    # ... and the report says so in words, never as a 0.
    summary.to_csv(tmp_path / "summary.csv", index=False)
    go.to_csv(tmp_path / "samples.csv", index=False)
    (tmp_path / "host.json").write_text(
        json.dumps({"cpu_model": "test", "schema_version": SCHEMA_VERSION})
    )
    text = report.write_report(tmp_path).read_text()
    section = text[text.index("## All cases") :].split("\n## ", 1)[0]
    lines = section.splitlines()
    header = next(x for x in lines if x.startswith("| case |"))
    names = [cell.strip() for cell in header.strip("|").split("|")]
    line = next(x for x in lines if x.startswith("| `go.chan.p1` |"))
    cells = dict(zip(names, (c.strip() for c in line.strip("|").split("|")), strict=True))
    assert cells["OS ctx switches per switch"].split(" ", 1)[0] == "unavailable"
    assert cells["check"] == "unavailable"


def _run(values, loops, counters):
    metadata = {"name": "go.chan.p1", "loops": loops, "inner_loops": 2, "unit": "second"}
    if counters is not None:
        metadata[COUNTERS_METADATA] = counters
    return pyperf.Run(
        values, warmups=[(loops, values[0])], metadata=metadata, collect_metadata=False
    )


def test_tidy_reads_counters_in_order_and_refuses_misaligned_ones():
    perf = [1, 0, 5000, 0, None, None, None, None]  # context switches ... cycles unavailable
    good = json.dumps([[64, 12800, 1, 0, *perf], [64, 25600, 0, 2, *perf]])
    suite = pyperf.BenchmarkSuite(
        [
            pyperf.Benchmark(
                [
                    _run([100e-9, 200e-9], 64, good),
                    _run(
                        [100e-9, 200e-9], 64, json.dumps([[64, 12800, 1, 0, *perf]])
                    ),  # one record short
                    _run([100e-9, 200e-9], 64, "not json"),
                    _run([100e-9, 200e-9], 64, None),
                ]
            )
        ]
    )
    samples = tidy.samples_from_suite(suite)
    assert list(samples.columns) == schema.SAMPLE_COLUMNS
    assert len(samples) == 8
    first = samples[samples["process"] == 1]
    assert first["ns_per_switch"].tolist() == pytest.approx([100, 200])
    assert first["switches"].tolist() == [128, 128]
    assert first["os_ctx_switches_per_switch"].tolist() == pytest.approx([1 / 128, 2 / 128])
    assert first["task_clock_ns"].tolist() == [5000, 5000]
    assert first["cycles"].isna().all(), "an unread counter is NaN, never 0"
    assert first["context_switches"].tolist() == [1, 1]
    rest = samples[samples["process"] > 1]
    assert rest["os_ctx_switches_per_switch"].isna().all()
    assert rest["voluntary_ctx"].isna().all()


def test_markdown_escapes_strings_from_the_folder():
    assert fmt.md("a|b<script>") == "a\\|b\\<script\\>"
    assert "\n" not in fmt.md("two\nlines")


def test_perf_counts_come_from_counted_runs_and_missing_ones_stay_unavailable():
    timed = _samples("go.chan.p1", [100.0, 110, 120], [0, 0, 0], [0, 0, 0])
    counted = _samples("go.chan.p1", [150.0, 170], [0, 0], [0, 0])
    counted["kind"] = "counted"
    counted["context_switches"] = [2.0, 4.0]
    counted["task_clock_ns"] = [1e5, float("nan")]  # one run without it: unknowable
    row = analyse.summarise(pd.concat([timed, counted]), [cases.get_case("go.chan.p1")], {})
    row = row.iloc[0]
    assert row["ns_per_switch"] == 110, "counted runs never enter the timing"
    assert row["samples"] == 3
    # getrusage over the timed samples is the primary count; perf's is beside it.
    assert row["os_ctx_source"] == "getrusage"
    assert row["os_ctx_switches_per_switch"] == 0
    assert row["context_switches_per_switch"] == pytest.approx(6 / 2000)
    assert row["perf_overhead"] == pytest.approx(160 / 110)
    assert math.isnan(row["task_clock_ns_per_switch"])
    assert math.isnan(row["cycles_per_switch"]) and math.isnan(row["ipc"])


def test_perf_is_the_fallback_when_getrusage_is_missing():
    timed = _samples("go.chan.p1", [100.0, 110, 120], [float("nan")] * 3, [float("nan")] * 3)
    counted = _samples("go.chan.p1", [150.0], [float("nan")], [float("nan")])
    counted["kind"] = "counted"
    counted["context_switches"] = [3.0]
    row = analyse.summarise(pd.concat([timed, counted]), [cases.get_case("go.chan.p1")], {})
    assert row.iloc[0]["os_ctx_source"] == "perf_event_open"
    assert row.iloc[0]["os_ctx_switches_per_switch"] == pytest.approx(3 / 1000)


def test_without_counted_runs_getrusage_is_the_source():
    timed = _samples("c.condvar.same-core", [4000.0, 4100, 4200], [2000, 2000, 2000], [0, 0, 0])
    row = analyse.summarise(timed, [cases.get_case("c.condvar.same-core")], {}).iloc[0]
    assert row["os_ctx_source"] == "getrusage"
    assert row["os_ctx_switches_per_switch"] == pytest.approx(2.0)
    assert math.isnan(row["perf_overhead"])
