"""The latency step as a user starts it (`--only latency`), and a whole comparison of a
folder with latency.csv and one without."""

from __future__ import annotations

import pandas as pd

from bench.render import compare as render_compare
from bench.results import read, schema
from tests.conftest import copy_reference, switchbench
from tests.unit.test_latency import _with_latency


def test_only_latency_runs_the_step_alone(tmp_path):
    out = tmp_path / "run"
    done = switchbench("run", "--profile", "smoke", "--only", "latency", "--out", str(out))
    assert done.returncode == 0, done.stderr
    data = read.load(out)
    assert data.summary.empty and data.latency is not None
    ok = data.latency[data.latency["status"] == "ok"]
    assert len(ok) >= 1
    for _, row in data.latency.iterrows():
        assert row["status"] == "ok" or str(row["reason"]).strip(), row["case"]
    text = (out / "report.md").read_text()
    assert "## The tail: single hand-offs" in text and (out / "latency_cdf.png").is_file()
    hist = pd.read_csv(out / schema.LATENCY_HIST_CSV)
    per_case = hist.groupby("case")["count"].sum()
    for _, row in ok.iterrows():
        assert per_case[row["case"]] == row["handoffs"]


def test_cross_core_is_skipped_on_one_cpu(tmp_path):
    out = tmp_path / "run"
    done = switchbench(
        "run", "--profile", "smoke", "--only", "latency", "--out", str(out), cpus={0}
    )
    assert done.returncode == 0, done.stderr
    rows = read.load(out).latency.set_index("case")
    assert rows.loc["c.futex.cross-core", "status"] == "skipped"
    assert "CPU" in rows.loc["c.futex.cross-core", "reason"]
    assert rows.loc["c.futex.same-core", "status"] == "ok"


def test_compare_folder_without_latency_writes_no_section(tmp_path):
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    _with_latency(a)
    md_path = render_compare.write_comparison([a, b], tmp_path / "out")
    assert "## The tail, side by side" in md_path.read_text()
