"""Precision: the regression on loop count, adaptive sampling to a CI target, and
interleaved passes (--repeat)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.conftest import switchbench


def test_repeat_runs_interleaved_passes_and_keeps_every_batch(tmp_path: Path) -> None:
    out = tmp_path / "repeat"
    only = "c.ucontext,go.gosched.p1,c.clock.monotonic"
    done = switchbench(
        "run", "--profile", "smoke", "--only", only, "--repeat", "3", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("pass ") >= 3
    run = json.loads((out / "run.json").read_text())
    assert run["repeat"] == 3
    for record in run["cases"].values():
        assert record["status"] == "ok" and record["passes"] == 3
        assert record["stop"] == "3 of 3 interleaved passes"
    summary = pd.read_csv(out / "summary.csv").set_index("case")
    # smoke takes one process per batch: three passes, three processes per case.
    assert (summary.loc[only.split(","), "processes"] == 3).all()
    samples = pd.read_csv(out / "samples.csv")
    sized = samples[samples["kind"] == "sized"].groupby("case")["ops"].nunique()
    assert (sized == 4).all()  # the four loop counts of the regression

    again = switchbench("run", "--resume", str(out), "--repeat", "2")
    assert again.returncode == 2 and "drop --only, --out and --repeat" in again.stderr
    bad = switchbench("run", "--repeat", "0", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "--repeat" in bad.stderr


def test_selfbench_refuses_an_unknown_profile(tmp_path: Path) -> None:
    done = switchbench("selfbench", "--profiles", "quick,fastest", "--out", str(tmp_path / "s"))
    assert done.returncode == 2 and "fastest" not in done.stdout
    assert "name profiles from" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    rounds = switchbench("selfbench", "--go-rounds", "-1", "--out", str(tmp_path / "r"))
    assert rounds.returncode == 2 and "--go-rounds" in rounds.stderr
    assert len(rounds.stderr.strip().splitlines()) == 1
