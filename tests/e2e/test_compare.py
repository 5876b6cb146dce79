"""switchbench compare: ratios, significance, the metadata diff and escaping.

The folders are made from the committed reference run (real samples from the
development machine), copied and changed in known ways."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.analysis import comparison
from bench.render import compare
from tests.conftest import copy_reference, rename_case, scale_times, switchbench


def test_compare_cli_writes_every_file_and_refuses_bad_input(tmp_path: Path) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    scale_times(b, 2.0)
    out = tmp_path / "cmp"
    done = switchbench("compare", str(a), str(b), "--out", str(out))
    assert done.returncode == 0, done.stderr
    for name in ("compare.csv", "compare.md", "compare.html", "compare_ns_per_switch.png"):
        assert (out / name).is_file(), name
    assert "compare_ratio.png" in (out / "compare.md").read_text()

    one = switchbench("compare", str(a))
    assert one.returncode == 2 and "at least two" in one.stderr
    assert len(one.stderr.strip().splitlines()) == 1
    missing = switchbench("compare", str(a), str(tmp_path / "nope"))
    assert missing.returncode == 2 and "nope" in missing.stderr
    assert "Traceback" not in missing.stderr
    (b / "samples.csv").write_text("case,process\nx,1\n")
    damaged = switchbench("compare", str(a), str(b), "--out", str(tmp_path / "c2"))
    assert damaged.returncode == 2 and "samples.csv" in damaged.stderr


def test_pyperf_compare_to_reads_two_result_folders(tmp_path: Path) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyperf",
            "compare_to",
            str(a / "suite.json"),
            str(b / "suite.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "go.chan.p1" in done.stdout or "identical" in done.stdout.lower()


def test_cases_in_only_one_run_are_listed_not_dropped(tmp_path: Path) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    rename_case(b, "c.spawn", None)
    out = tmp_path / "cmp"
    compare.write_comparison([a, b], out)
    table = pd.read_csv(out / "compare.csv")
    row = table[(table["case"] == "c.spawn") & (table["run"] == 1)].iloc[0]
    assert row["status"] == "absent"
    text = (out / "compare.md").read_text()
    assert "Cases missing from some runs" in text and "`c.spawn`" in text.split("missing")[-1]


def test_strings_from_a_folder_are_escaped_in_markdown_and_html(tmp_path: Path) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    evil = '<script>alert("x")</script> | ![p](http://evil.example/p.png) [l](javascript:1)'
    host = json.loads((b / "host.json").read_text())
    host["cpu_model"] = evil
    host["versions"]["go"] = evil
    (b / "host.json").write_text(json.dumps(host))
    rename_case(b, "c.spawn", "<img src=x onerror=alert(1)>")
    out = tmp_path / "cmp"
    compare.write_comparison([a, b], out)
    page = (out / "compare.html").read_text()
    assert "<script" not in page and "<img src=x" not in page
    assert "evil.example" not in page.split("<body>")[1].split("&lt;")[0]  # never an image
    assert 'src="http' not in page and "javascript:" not in page.replace("javascript:1)", "")
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    # The table rows stayed rows: the | in the string did not split a cell.
    md_text = (out / "compare.md").read_text()
    cpu_row = next(line for line in md_text.splitlines() if line.startswith("| CPU |"))
    assert cpu_row.count(" | ") == 3


# Whole reference folders compared (about a second each): here rather than in the
# fast subset, which tests/unit/test_verdicts.py's edge cases cover on synthetic ratios.
@pytest.mark.parametrize("factor", [0.5, 3.0])
def test_verdict_follows_the_direction(tmp_path: Path, factor: float) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    scale_times(b, factor)
    table = comparison.compare(comparison.load_runs([a, b]))
    row = table[(table["case"] == "go.chan.p1") & (table["run"] == 1)].iloc[0]
    assert row["verdict"] == ("faster" if factor < 1 else "slower")
    assert row["x_go_chan_p1"] == pytest.approx(1.0)
