"""Golden files: what the suite renders from the committed reference run must not change
unless a commit means it to. A move of code (issue 16's restructure) keeps every one
byte for byte; a deliberate change of output rewrites them in the same commit with

    SWITCHBENCH_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/e2e/test_golden.py

and its message says why.

- samples.csv and summary.csv: tidied and analysed again from the reference's suite.json
  (pyperf's file, the raw measurement) and run.json; they must equal the committed ones.
- report.md of the reference, and compare.md / compare.csv of the reference against a
  copy of it with every time scaled by 1.5: tests/golden/.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pyperf
import pytest

from bench.analysis import summary as analyse
from bench.analysis import tidy
from bench.catalogue import cases
from bench.render import compare, report
from tests.conftest import ROOT, scale_times

REFERENCE = ROOT / "results" / "reference"
GOLDEN = Path(__file__).resolve().parent.parent / "golden"
UPDATE = os.environ.get("SWITCHBENCH_UPDATE_GOLDEN") == "1"
# compare.md says when it was written (the wall clock): that one stamp is not compared.
_WRITTEN = re.compile(r"Written \d{4}-\d\d-\d\d \d\d:\d\d UTC\.")


def _unstamped(text: str) -> str:
    return _WRITTEN.sub("Written <time> UTC.", text)


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
        return
    assert path.is_file(), f"no golden {name}: set SWITCHBENCH_UPDATE_GOLDEN=1 to write it"
    expected, text = _unstamped(path.read_text()), _unstamped(text)
    if text != expected:
        # The first differing line, so a failure says where the output moved.
        for number, (got, want) in enumerate(
            zip(text.splitlines(), expected.splitlines(), strict=False), 1
        ):
            if got != want:
                pytest.fail(f"{name} line {number} changed:\n  was: {want}\n  now: {got}")
        pytest.fail(f"{name} changed length: {len(expected)} -> {len(text)} characters")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The reference (under its own name, which the report's title shows) and a copy
    scaled by 1.5, rendered into a scratch folder."""
    base = tmp_path_factory.mktemp("golden")
    ref = base / "reference"
    shutil.copytree(
        REFERENCE, ref, ignore=shutil.ignore_patterns("raw", "*.png", "*.svg", "report.*")
    )
    scaled = base / "scaled"
    shutil.copytree(ref, scaled)
    scale_times(scaled, 1.5)
    out = {"report.md": report.write_report(ref).read_text()}
    compared = compare.write_comparison([ref, scaled], base / "compare")
    out["compare.md"] = compared.read_text()
    out["compare.csv"] = (compared.parent / "compare.csv").read_text()
    return out


@pytest.mark.parametrize("name", ["report.md", "compare.md", "compare.csv"])
def test_rendering_the_reference_is_unchanged(rendered: dict[str, str], name: str) -> None:
    _check(name, rendered[name])


def test_samples_and_summary_are_derived_again_unchanged(tmp_path: Path) -> None:
    suite = pyperf.BenchmarkSuite.load(str(REFERENCE / "suite.json"))
    samples = tidy.samples_from_suite(suite)
    run = json.loads((REFERENCE / "run.json").read_text())
    selected = [cases.get_case(c) for c in run["selected"]]
    stops = {k: v["stop"] for k, v in run["cases"].items() if v["status"] == "ok"}
    not_measured = {
        k: (v["status"], v["reason"]) for k, v in run["cases"].items() if v["status"] != "ok"
    }
    summary = analyse.summarise(samples, selected, not_measured, stops)
    for frame, name in ((samples, "samples.csv"), (summary, "summary.csv")):
        analyse.write_summary(frame, tmp_path / name)  # the suite's one CSV writer
        derived = (tmp_path / name).read_text()
        committed = (REFERENCE / name).read_text()
        if UPDATE:
            continue  # the reference's own files are rewritten by a run, not here
        assert derived == committed, (
            f"{name} derived from suite.json differs from results/reference/{name}: "
            f"{_first_difference(derived, committed)}"
        )


def _first_difference(a: str, b: str) -> str:
    left, right = pd.read_csv(io.StringIO(a)), pd.read_csv(io.StringIO(b))
    if list(left.columns) != list(right.columns):
        return f"columns {list(right.columns)} -> {list(left.columns)}"
    for column in left.columns:
        if not left[column].equals(right[column]):
            row = int((left[column] != right[column]).idxmax())
            return f"column {column} first differs in row {row}"
    return "formatting only"
