"""`switchbench run --only timesplit` as a user starts it, its report, and compare."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.results import read
from bench.results.schema import TIMESPLIT_COLUMNS, TIMESPLIT_CSV
from tests.conftest import copy_reference, switchbench


def test_only_timesplit_runs_the_step_alone_and_compares(tmp_path: Path) -> None:
    out = tmp_path / "split"
    done = switchbench("run", "--profile", "smoke", "--only", "timesplit", "--out", str(out))
    assert done.returncode == 0, done.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["timesplit"] is True and run["selected"] == []
    frame = read.load_timesplit(out)
    assert frame is not None and list(frame.columns) == TIMESPLIT_COLUMNS
    rows = frame.set_index("case")
    assert {"go.chan.p1", "c.futex.same-core", "c.pipe.procs.same-core"} <= set(rows.index)
    measured = rows[rows["status"] == "ok"]
    assert "go.chan.p1" in measured.index and "c.futex.same-core" in measured.index
    assert (
        measured.loc["go.chan.p1", "user_share"] > measured.loc["c.futex.same-core", "user_share"]
    )
    report = (out / "report.md").read_text()
    assert "## Where the time of one switch goes" in report
    assert (out / "timesplit.png").is_file() and "timesplit.png" in report

    # Beside a folder without the step: the section names the folder that has none.
    reference = copy_reference(tmp_path, "reference")
    (reference / TIMESPLIT_CSV).unlink()  # the committed reference has one: a run without
    second = tmp_path / "split2"
    shutil.copytree(out, second)
    cmp = tmp_path / "cmp"
    done = switchbench("compare", str(out), str(second), str(reference), "--out", str(cmp))
    assert done.returncode == 0, done.stderr
    text = (cmp / "compare.md").read_text()
    assert "## Where the time of one switch goes" in text
    assert "No time split in reference" in text
    assert (cmp / "compare_timesplit.png").is_file()
