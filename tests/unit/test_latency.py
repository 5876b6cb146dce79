"""The tail: the latency statistics, latency.csv's round trip, and the report's and
compare's sections with and without it (fabricated folders)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from bench.analysis import latency as stats
from bench.errors import UsageError
from bench.render import latency as render_latency
from bench.render import report
from bench.results import read, schema
from tests.conftest import copy_reference

HOSTILE = "<script>x</script> | **b** `q` _u_"


def _lognormal_runs(rng: np.random.Generator, runs: int, n: int) -> list[np.ndarray]:
    return [np.exp(rng.normal(math.log(2000.0), 0.3, n)) for _ in range(runs)]


def test_bootstrap_ci_covers_a_known_truth():
    """Lognormal hand-offs with a known median and 99th percentile: each CI covers the
    truth in at least 90% of trials, and a value 10% off in few (the CI is not so
    wide that it covers anything)."""
    rng = np.random.default_rng(7)
    truth = {"p50": 2000.0, "p99": 2000.0 * math.exp(0.3 * 2.3263479)}
    trials, covered, wrong = 30, {"p50": 0, "p99": 0}, {"p50": 0, "p99": 0}
    for seed in range(trials):
        s = stats.summarise(_lognormal_runs(rng, 5, 1000), seed=seed, resamples=299)
        for name, value in truth.items():
            covered[name] += s[f"{name}_ci_low"] <= value <= s[f"{name}_ci_high"]
            wrong[name] += s[f"{name}_ci_low"] <= value * 1.1 <= s[f"{name}_ci_high"]
    for name in truth:
        assert covered[name] >= 0.9 * trials, (name, covered)
        assert wrong[name] <= 0.2 * trials, (name, wrong)


def test_percentiles_ordered_and_histogram_keeps_every_value():
    rng = np.random.default_rng(1)
    runs = [np.round(rng.pareto(1.5, 3000) * 500 + 100).astype(np.int64) for _ in range(3)]
    s = stats.summarise(runs, resamples=199)
    ordered = [s["min"], s["p50"], s["p90"], s["p99"], s["p99_9"], s["p99_99"], s["max"]]
    assert ordered == sorted(ordered)
    assert s["p50_ci_low"] <= s["p50"] <= s["p50_ci_high"]
    hist = stats.histogram(np.concatenate(runs))
    assert hist["count"].sum() == 9000
    assert (hist["low_ns"] < hist["high_ns"]).all()
    x, y = stats.cdf_points(hist)
    assert y[-1] == 1.0 and (np.diff(y) > 0).all() and x[-1] > s["max"]


def test_one_run_has_no_ci():
    s = stats.summarise([np.arange(1, 1001, dtype=float)])
    assert math.isnan(s["p50_ci_low"]) and math.isnan(s["p99_ci_high"])


def test_bucket_percentile_is_the_upper_boundary():
    buckets = pd.DataFrame(
        {"low_s": [None, 1e-7, 2e-7], "high_s": [1e-7, 2e-7, None], "count": [10, 80, 10]}
    )
    assert stats.bucket_percentile(buckets, 50) == pytest.approx(200.0)
    assert stats.bucket_percentile(buckets, 5) == pytest.approx(100.0)
    assert math.isnan(stats.bucket_percentile(buckets, 99.9))  # the bucket has no upper end


def _rows(case: str = "go.chan.p1") -> tuple[pd.DataFrame, pd.DataFrame]:
    """A latency.csv of an ok Go row, an ok C row and a skipped row, and its histogram,
    all computed from fabricated values."""
    rng = np.random.default_rng(3)
    rows, bins = [], []
    for name, lang, scale in ((case, "go", 200.0), ("c.futex.same-core", "c", 2000.0)):
        runs = [np.round(rng.lognormal(math.log(scale), 0.2, 500)).astype(np.int64)] * 2
        s = stats.summarise(runs, resamples=99)
        row = dict.fromkeys(schema.LATENCY_COLUMNS, math.nan)
        row.update(case=name, status="ok", reason="", lang=lang, what="w", clock="clk")
        row.update({f"{k}_ns": s[k] for k in ("p50", "p90", "p99", "p99_9", "p99_99", "max")})
        row.update({k: v for k, v in s.items() if "_ci_" in k}, min_ns=s["min"])
        row.update(runs=2, handoffs=1000, clock_ns=20.0, clock_pairs=100, wall_s=0.5)
        row.update(runtime_note="not a goroutine case" if lang == "c" else "sampled")
        if lang == "go":
            row.update(runtime_p50_ns=128.0, runtime_p99_ns=256.0, runtime_events=125)
        rows.append(row)
        hist = stats.histogram(np.concatenate(runs))
        hist.insert(0, "case", name)
        bins.append(hist)
    skipped = dict.fromkeys(schema.LATENCY_COLUMNS, math.nan)
    skipped.update(case="c.futex.cross-core", status="skipped", reason="needs 2 CPUs", lang="c")
    rows.append(skipped)
    return pd.DataFrame(rows, columns=schema.LATENCY_COLUMNS), pd.concat(bins)


def _without_latency(folder):
    """The folder as a run without the latency step left it (the reference has one)."""
    for name in (schema.LATENCY_CSV, schema.LATENCY_HIST_CSV):
        (folder / name).unlink(missing_ok=True)
    run = json.loads((folder / schema.RUN_JSON).read_text())
    run.pop("latency", None)
    (folder / schema.RUN_JSON).write_text(json.dumps(run))
    return folder


def _with_latency(folder, case: str = "go.chan.p1"):
    rows, hist = _rows(case)
    rows.to_csv(folder / schema.LATENCY_CSV, index=False)
    hist.to_csv(folder / schema.LATENCY_HIST_CSV, index=False)
    run = json.loads((folder / schema.RUN_JSON).read_text())
    (folder / schema.RUN_JSON).write_text(json.dumps({**run, "latency": True}))
    return rows, hist


def test_latency_csv_round_trips(tmp_path):
    folder = copy_reference(tmp_path, "run")
    rows, hist = _with_latency(folder)
    data = read.load(folder)
    assert list(data.latency["case"]) == list(rows["case"])
    pd.testing.assert_series_equal(data.latency["p99_ns"], rows["p99_ns"], check_dtype=False)
    assert data.latency_hist["count"].sum() == hist["count"].sum()


def test_damaged_latency_csv_is_refused(tmp_path):
    folder = copy_reference(tmp_path, "run")
    rows, _ = _with_latency(folder)
    rows.loc[0, "p50_ns"] = -5
    rows.to_csv(folder / schema.LATENCY_CSV, index=False)
    with pytest.raises(UsageError, match="p50_ns"):
        read.load(folder)


def test_report_with_and_without_latency(tmp_path):
    plain = _without_latency(copy_reference(tmp_path, "plain"))
    assert render_latency.TITLE not in report.render_markdown(read.load(plain), {})
    folder = copy_reference(tmp_path, "tail")
    _with_latency(folder, case=HOSTILE)
    data = read.load(folder)
    figures = render_latency.plot_cdf(folder, data.latency, data.latency_hist)
    assert (folder / "latency_cdf.png").is_file()
    text = report.render_markdown(data, {"latency": figures})
    section = text.split(render_latency.TITLE)[1].split("\n## ")[0]
    assert "<script>" not in section and "\\<script\\>" in section
    assert "skipped: needs 2 CPUs" in section
    assert "(latency_cdf.png)" in section
    p99 = data.latency.iloc[1]["p99_ns"]  # the C row: its figure, as the table writes it
    assert render_latency.ns(p99) in section


def test_report_says_when_the_step_did_not_finish(tmp_path):
    folder = _without_latency(copy_reference(tmp_path, "run"))
    run = json.loads((folder / schema.RUN_JSON).read_text())
    (folder / schema.RUN_JSON).write_text(json.dumps({**run, "latency": True}))
    text = report.render_markdown(read.load(folder), {})
    assert "did not finish the latency step" in text


def test_compare_sets_the_tails_side_by_side(tmp_path):
    a, b, c = (copy_reference(tmp_path, n) for n in ("a", "b", "c"))
    _without_latency(c)
    _with_latency(a)
    _with_latency(b)
    figures = render_latency.plot_compare_cdf(["a", "b", "c"], [a, b, c], tmp_path)
    assert (tmp_path / "compare_latency_cdf.png").is_file()
    lines = render_latency.compare_lines(["a", "b", "c"], [a, b, c], figures)
    text = "\n".join(lines)
    rows = [line for line in lines if line.startswith("| `c.futex.same-core`")]
    assert [r.split(" | ")[1] for r in rows] == ["a", "b"]
    assert "No latency.csv in c." in text
    assert render_latency.compare_lines(["c"], [c], []) == []
