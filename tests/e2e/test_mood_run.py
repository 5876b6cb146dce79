"""End-to-end: a small run records the mood canary beside every timed value, and its
report, summary and a comparison show it."""

import pandas as pd
import pyperf
import pytest

from tests.conftest import switchbench

CASES = "go.chan.p1,c.futex.same-core"


@pytest.fixture(scope="module")
def mood_runs(tmp_path_factory, artifacts):
    base = tmp_path_factory.mktemp("mood")
    outs = []
    for name in ("a", "b"):
        out = base / name
        done = switchbench("run", "--profile", "smoke", "--only", CASES, "--out", str(out))
        assert done.returncode == 0, done.stderr
        outs.append(out)
    return outs


def test_every_timed_value_has_its_canary_and_nothing_else_does(mood_runs):
    samples = pd.read_csv(mood_runs[0] / "samples.csv")
    timed = samples[samples["kind"] == "timed"]
    assert len(timed) > 0
    assert (timed["canary_before_ns"] > 0).all() and (timed["canary_after_ns"] > 0).all()
    others = samples[samples["kind"] != "timed"]
    assert others["canary_before_ns"].isna().all() and others["canary_after_ns"].isna().all()


def test_suite_json_stays_pyperf_and_carries_the_canary(mood_runs):
    suite = pyperf.BenchmarkSuite.load(str(mood_runs[0] / "suite.json"))
    runs = [r for b in suite.get_benchmarks() for r in b.get_runs() if r.values]
    assert runs and all("switchbench_canary" in r.get_metadata() for r in runs)


def test_summary_report_and_compare_show_the_canary(mood_runs):
    summary = pd.read_csv(mood_runs[0] / "summary.csv")
    assert (summary["canary_ns"] > 0).all()
    # One process of 3 values (smoke): too few to fit, said so, never adjusted silently.
    assert summary["adjusted_ns"].isna().all()
    assert summary["mood_note"].str.contains("values <").all()
    assert summary["mood_adjusted"].isna().all()  # no fit: blank, neither 1 nor 0
    report = (mood_runs[0] / "report.md").read_text()
    assert "## How noisy was this machine" in report
    assert (mood_runs[0] / "mood_canary.png").is_file()
    out = mood_runs[0].parent / "cmp"
    done = switchbench("compare", str(mood_runs[0]), str(mood_runs[1]), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "## At one canary level" in (out / "compare.md").read_text()
