"""Goroutine leaks: every scenario in both versions, at a small K."""

import dataclasses
import gzip

import pandas as pd
import pytest

from bench.measure import leaks
from bench.native import build
from bench.render import leaks as render_leaks
from bench.results import read, schema

K = 200


GOROUTINE_SCENARIOS = ("sender", "receiver", "nilchan")


@pytest.fixture(scope="module")
def measured(artifacts, tmp_path_factory):
    out = tmp_path_factory.mktemp("leaks")
    said = []
    frame = leaks.measure(artifacts, out, k=K, progress=said.append)
    return out, frame, said


def _row(frame, scenario, version):
    rows = frame[(frame["scenario"] == scenario) & (frame["version"] == version)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_every_scenario_and_version_is_a_row(measured):
    out, frame, said = measured
    assert list(frame.columns) == schema.LEAK_COLUMNS
    assert len(frame) == len(leaks.SCENARIOS) * len(leaks.VERSIONS) == len(said)
    assert (frame["status"] == "ok").all(), frame["reason"].tolist()
    assert (frame["k"] == K).all()
    assert frame["go_version"].str.startswith("go").all()
    again = pd.read_csv(out / "leaks.csv")
    assert list(again.columns) == schema.LEAK_COLUMNS and len(again) == len(frame)


@pytest.mark.parametrize("scenario", GOROUTINE_SCENARIOS)
def test_a_leaking_goroutine_is_one_per_call_and_caught(measured, artifacts, scenario):
    _, frame, _ = measured
    leaking = _row(frame, scenario, "leaking")
    assert leaking["leaked_per_iter"] == pytest.approx(1, abs=0.02)
    assert leaking["slope_per_iter"] == pytest.approx(1, abs=0.02)
    assert leaking["goroutines_left"] == pytest.approx(K, abs=2)
    assert leaking["caught_by_numgoroutine"] and leaking["caught_by_pprof"]
    assert leaking["top_stack_count"] >= K and "leaks." in leaking["top_stack"]
    # A goroutine holds at least its smallest stack and its g on the heap.
    assert leaking["stack_bytes_per_leak"] >= 1024 and leaking["heap_bytes_per_leak"] > 0
    if artifacts.leak_driver_unavailable() is None:
        assert leaking["caught_by_goroutineleak"] in (True,)
        assert leaking["goroutineleak_count"] >= K
    else:
        assert leaking["caught_by_goroutineleak"] is None and leaking["goroutineleak_reason"]


@pytest.mark.parametrize("scenario", leaks.SCENARIOS)
def test_a_fixed_version_leaves_nothing_and_is_not_caught(measured, scenario):
    _, frame, _ = measured
    fixed = _row(frame, scenario, "fixed")
    assert fixed["leaked_per_iter"] == pytest.approx(0, abs=0.01)
    assert fixed["slope_per_iter"] == pytest.approx(0, abs=0.01)
    assert not fixed["caught_by_numgoroutine"] and not fixed["caught_by_pprof"]
    assert fixed["caught_by_goroutineleak"] in (False, None)


def test_object_leaks_involve_no_goroutine(measured):
    _, frame, _ = measured
    cycle = _row(frame, "finalizer-cycle", "leaking")
    assert cycle["retained_objects"] == K and cycle["callbacks_run"] == 0
    assert cycle["heap_bytes_per_leak"] >= 64 * 1024
    assert _row(frame, "finalizer-cycle", "fixed")["callbacks_run"] == K
    for scenario in ("ticker", "ticker-go123", "finalizer-cycle"):
        row = _row(frame, scenario, "leaking")
        assert row["goroutines_left"] == pytest.approx(0, abs=2)
        assert not row["caught_by_numgoroutine"] and not row["caught_by_pprof"]
        assert row["caught_by_goroutineleak"] in (False, None)
    # Go 1.23's timers free an unreachable, unstopped ticker.
    assert _row(frame, "ticker-go123", "leaking")["retained_objects"] == 0


def test_profiles_are_saved_gzipped(measured, artifacts):
    out, frame, _ = measured
    files = frame["goroutine_profile"].tolist()
    if artifacts.leak_driver_unavailable() is None:
        files += frame["goroutineleak_profile"].tolist()
    assert len(files) >= len(frame)
    for name in files:
        assert name.startswith(leaks.PROFILE_FOLDER + "/")
        with gzip.open(out / name) as f:
            assert f.read(1)
    assert not [p for p in (out / leaks.PROFILE_FOLDER).iterdir() if p.name.startswith(".")]


def test_the_section_reads_the_folder(measured):
    out, _, _ = measured
    text = "\n".join(render_leaks.section_lines(read.load_leaks(out)))
    assert text.startswith("## Goroutine leaks")
    for scenario in leaks.SCENARIOS:
        assert f"### {scenario}" in text
    assert "go tool pprof -top FILE" in text
    assert "Unstopped tickers, observed" in text


def test_a_missing_driver_is_a_failed_row_not_a_crash(artifacts, tmp_path):
    broken = dataclasses.replace(
        artifacts, go_driver=tmp_path / "nope", go_leak_driver=tmp_path / "nope-either"
    )
    frame = leaks.measure(broken, tmp_path, k=8)
    assert (frame["status"] == "failed").all() and frame["reason"].str.len().gt(0).all()
    assert (tmp_path / "leaks.csv").is_file()


def test_an_unknown_experiment_is_recorded_not_raised(artifacts, tmp_path, monkeypatch):
    monkeypatch.setattr(build, "GO_LEAK_EXPERIMENT", "nosuchexperiment")
    target = dataclasses.replace(artifacts, go_leak_driver=tmp_path / "driver-leakprofile")
    build.build_go_leak_profile(target)
    reason = target.leak_driver_unavailable()
    assert reason and "GOEXPERIMENT=nosuchexperiment" in reason
    assert not (tmp_path / "driver-leakprofile").exists()
    frame = leaks.measure(dataclasses.replace(target, go_driver=artifacts.go_driver), tmp_path, 8)
    assert (frame["status"] == "ok").all()
    assert frame["caught_by_goroutineleak"].isna().all()
    assert (frame["goroutineleak_reason"] == reason).all()
