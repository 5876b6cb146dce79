"""Goroutine leaks: every scenario in both versions, at a small K."""

import re

import pandas as pd
import pytest

from bench.errors import UsageError
from bench.render import leaks as render_leaks
from bench.results import read, schema
from tests.conftest import ROOT

K = 200


def test_the_section_escapes_what_it_reads(tmp_path):
    assert read.load_leaks(tmp_path) is None and render_leaks.section_lines(None) == []
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
    text = "\n".join(render_leaks.section_lines(read.load_leaks(tmp_path)))
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
    text = "\n".join(render_leaks.section_lines(frame))
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
