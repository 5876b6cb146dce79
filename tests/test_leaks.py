"""Goroutine leaks: every scenario in both versions, at a small K."""

import dataclasses
import gzip
import re

import pandas as pd
import pytest

from bench.errors import UsageError
from bench.measure import leaks
from bench.native import build
from bench.results import read, schema
from tests.conftest import ROOT

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
    text = "\n".join(leaks.section_lines(read.load_leaks(out)))
    assert text.startswith("## Goroutine leaks")
    for scenario in leaks.SCENARIOS:
        assert f"### {scenario}" in text
    assert "go tool pprof -top FILE" in text
    assert "Unstopped tickers, observed" in text


def test_the_section_escapes_what_it_reads(tmp_path):
    assert read.load_leaks(tmp_path) is None and leaks.section_lines(None) == []
    hostile = "<script>alert(1)</script>|**x**"
    row = dict.fromkeys(schema.LEAK_COLUMNS, "")
    row.update(
        scenario=hostile,
        version="leaking",
        k="1000",
        go_version=hostile,
        status="ok",
        leaked_per_iter="1",
        top_stack=hostile,
        goroutine_profile="leaks/goroutine-x.pb.gz",
        goroutineleak_reason=hostile,
    )
    pd.DataFrame([row]).to_csv(tmp_path / "leaks.csv", index=False)
    text = "\n".join(leaks.section_lines(read.load_leaks(tmp_path)))
    assert "<script>" not in text and "**x**" not in text
    assert "\\<script\\>" in text


@pytest.mark.parametrize(
    ("column", "value"),
    [("k", "not a number"), ("leaked_per_iter", "1e999"), ("goroutine_profile", "/etc/passwd")],
)
def test_a_damaged_leaks_csv_is_refused(tmp_path, column, value):
    row = dict.fromkeys(schema.LEAK_COLUMNS, "")
    row.update(scenario="sender", version="leaking", k="10", status="ok")
    row[column] = value
    pd.DataFrame([row]).to_csv(tmp_path / "leaks.csv", index=False)
    with pytest.raises(UsageError, match=column):
        read.load_leaks(tmp_path)
    (tmp_path / "leaks.csv").write_text("not,a\ncsv")
    with pytest.raises(UsageError, match=r"leaks\.csv"):
        read.load_leaks(tmp_path)


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


REFERENCE_LEAKS = ROOT / "results" / "reference" / "leaks.csv"


def _ticker_prose_and_table(text):
    """{godebug: (alive, freed, of)} from the prose, {godebug: (left per call, K)} from
    the tables of the ticker scenarios (each table's rows name no godebug: its rows do)."""
    prose = {}
    for line in text.splitlines():
        said = re.fullmatch(r"- (asynctimerchan=\d) \(go[\d.]+\): (.*)\.", line)
        if not said:
            continue
        alive = re.search(r"([\d,]+) of ([\d,]+) unstopped tickers were still alive", said[2])
        freed = re.search(r"([\d,]+)(?: of ([\d,]+) unstopped tickers)? were freed", said[2])
        whole = {int(m[2].replace(",", "")) for m in (alive, freed) if m and m[2]}
        assert len(whole) == 1, line
        counts = [int(m[1].replace(",", "")) if m else 0 for m in (alive, freed)]
        prose[said[1]] = (*counts, whole.pop())
    tables = {}
    for scenario in ("ticker", "ticker-go123"):
        section = text.split(f"### {scenario}\n", 1)[1].split("\n### ", 1)[0]
        row = next(x for x in section.splitlines() if x.startswith("| leaking | "))
        tables[scenario] = float(row.split(" | ")[1].split()[0])
    return prose, tables


@pytest.mark.parametrize("retained", [None, 400])
def test_the_ticker_prose_agrees_with_the_table(tmp_path, retained):
    """The reference run's rows: under asynctimerchan=1 every unstopped ticker stayed
    alive, under asynctimerchan=0 every one was freed; the sentences must count each
    as its table does (one row changed to a part-freed one, as a run could give)."""
    raw = pd.read_csv(REFERENCE_LEAKS, dtype=str, keep_default_na=False)
    if retained is not None:
        mine = (raw["scenario"] == "ticker-go123") & (raw["version"] == "leaking")
        k = int(raw.loc[mine, "k"].iloc[0])
        raw.loc[mine, ["retained_objects", "leaked_per_iter"]] = [
            str(retained),
            str(retained / k),
        ]
    raw.to_csv(tmp_path / "leaks.csv", index=False)
    frame = read.load_leaks(tmp_path)
    text = "\n".join(leaks.section_lines(frame))
    prose, tables = _ticker_prose_and_table(text)
    godebug = {s: frame.loc[frame["scenario"] == s, "godebug"].iloc[0] for s in tables}
    assert set(prose) == set(godebug.values()) == {"asynctimerchan=1", "asynctimerchan=0"}
    outcomes = set()
    for scenario, left_per_call in tables.items():
        alive, freed, k = prose[godebug[scenario]]
        rows = frame[(frame["scenario"] == scenario) & (frame["version"] == "leaking")]
        assert k == int(float(rows["k"].iloc[0]))
        assert alive == round(left_per_call * k), (scenario, alive, left_per_call)
        assert alive + freed == k
        outcomes.add("freed" if alive == 0 else "alive" if freed == 0 else "both")
    assert outcomes == ({"alive", "freed"} if retained is None else {"alive", "both"})
