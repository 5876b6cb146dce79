"""Independent agreement: the pipe cases beside `perf bench sched pipe`."""

import math
import re

import numpy as np
import pandas as pd
import pytest

from bench.analysis import agreement
from bench.measure import agree
from bench.render import agree as render_agree
from tests.conftest import fake_perf

# What `perf bench sched pipe -l 20000` (linux-perf 6.1, pinned with taskset -c 0)
# printed on the development VM, and the same with -T.
PERF_PROCESSES = """\
# Running 'sched/pipe' benchmark:
# Executed 20000 pipe operations between two processes

     Total time: 0.097 [sec]

       4.855900 usecs/op
         205935 ops/sec
"""


PERF_THREADS = """\
# Running 'sched/pipe' benchmark:
# Executed 20000 pipe operations between two threads

     Total time: 0.081 [sec]

       4.056600 usecs/op
         246511 ops/sec
"""


PROCS, THREADS = (pair.case for pair in agree.PAIRS)


def test_perf_output_is_parsed():
    result = agree.parse_tool_output(PERF_PROCESSES)
    assert result == agree.ToolResult(20000, "processes", 4.8559)
    # One op is one round trip, two switches: 4.8559 µs / 2.
    assert agree.tool_ns_per_switch(result) == pytest.approx(2427.95)
    threads = agree.parse_tool_output(PERF_THREADS)
    assert (threads.ops, threads.between) == (20000, "threads")
    assert agree.tool_ns_per_switch(threads) == pytest.approx(2028.3)


@pytest.mark.parametrize(
    "text",
    ["", "# Running 'sched/pipe' benchmark:\n", "   nan usecs/op\n", "   0.000000 usecs/op\n"],
)
def test_output_without_a_figure_is_refused(text):
    with pytest.raises(ValueError):
        agree.parse_tool_output(text)


def test_no_perf_on_path_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    why = agree.tool_unavailable()
    assert why is not None and "not on PATH" in why and agree.INSTALL_HINT in why
    lines = render_agree.section_lines(None, why)
    assert lines[0] == "## Checked against an independent tool"
    text = "\n".join(lines)
    assert agree.INSTALL_HINT in text and "not on PATH" in text


def test_a_perf_that_fails_is_unavailable(monkeypatch, tmp_path):
    fake_perf(tmp_path, 'echo "E: perf not found for kernel 9.9" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", str(tmp_path))
    why = agree.tool_unavailable()
    assert why is not None and "perf not found for kernel 9.9" in why
    assert agree.INSTALL_HINT in why and "\n" not in why


def test_a_perf_that_prints_no_figure_is_unavailable(monkeypatch, tmp_path):
    fake_perf(tmp_path, 'echo "something else"\n')
    monkeypatch.setenv("PATH", str(tmp_path))
    why = agree.tool_unavailable()
    assert why is not None and "usecs/op" in why


def test_a_working_perf_is_available(monkeypatch, tmp_path):
    fake_perf(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert agree.tool_unavailable() is None


def _rows(comparison, suite, tool, text=False):
    out = []
    for r, (s, t) in enumerate(zip(suite, tool, strict=True)):
        for source, value in ((agree.SUITE, s), (agree.TOOL, t)):
            row = {
                "comparison": comparison,
                "source": source,
                "round": r,
                "round_trips": 20000,
                "ns_per_switch": value,
                "cpu": 0,
            }
            out.append({k: str(v) for k, v in row.items()} if text else row)
    return out


def test_summarise_agrees_and_disagrees():
    rng = np.random.default_rng(1)
    drift = 1 + 0.05 * rng.standard_normal(10)
    rows = pd.DataFrame(
        _rows(PROCS, 2100 * drift, 2000 * drift) + _rows(THREADS, 2600 * drift, 2000 * drift)
    )
    summary = agreement.summarise(rows).set_index("comparison")
    assert list(summary.index) == [PROCS, THREADS]
    procs, threads = summary.loc[PROCS], summary.loc[THREADS]
    assert procs["ratio"] == pytest.approx(1.05)
    assert procs["agree"] == "yes"
    assert threads["ratio"] == pytest.approx(1.3)
    assert threads["agree"] == "no"
    assert procs["switchbench_ns"] == pytest.approx(np.median(2100 * drift))
    assert procs["tool_ns"] == pytest.approx(np.median(2000 * drift))
    assert procs["rounds"] == 10 and procs["round_trips"] == 20000 and procs["cpu"] == 0
    assert threads["tool"] == "perf bench sched pipe -T"
    # Ten rounds give a CI; the drift is shared by both sources in each round, so the
    # paired CI is the ratio itself (an unpaired one would be about ±7% wide).
    for row in (procs, threads):
        assert row["ci_low"] == pytest.approx(row["ratio"])
        assert row["ci_high"] == pytest.approx(row["ratio"])


def test_the_ci_is_paired_by_round():
    # Both sources drift together from round to round (the machine's speed), at a
    # fixed ratio: resampling rounds keeps each round's two figures together, so
    # the ratio's CI stays tight however wide the drift.
    drift = np.array([0.6, 1.0, 1.7, 0.8, 1.3, 2.0, 0.9, 1.1])
    summary = agreement.summarise(pd.DataFrame(_rows(PROCS, 1200 * drift, 1000 * drift)))
    row = summary.iloc[0]
    assert row["ratio"] == pytest.approx(1.2)
    assert row["ci_low"] == pytest.approx(1.2) and row["ci_high"] == pytest.approx(1.2)


def test_the_agreement_limit_is_ten_percent():
    assert agreement.agrees(1.10) == "yes" and agreement.agrees(0.90) == "yes"
    assert agreement.agrees(1.1001) == "no" and agreement.agrees(0.8999) == "no"
    assert agreement.agrees(math.nan) == ""


def test_summarise_reads_text_cells_and_skips_junk():
    rows = _rows(PROCS, [2000, 2200, 2100], [2000, 2000, 2000], text=True)
    rows.append({**rows[0], "ns_per_switch": "not a number", "round": "7"})
    summary = agreement.summarise(pd.DataFrame(rows))
    row = summary.iloc[0]
    assert row["rounds"] == 3 and row["ratio"] == pytest.approx(1.05)


def test_few_rounds_give_no_ci():
    summary = agreement.summarise(pd.DataFrame(_rows(PROCS, [2100, 2200], [2000, 2000])))
    row = summary.iloc[0]
    assert math.isnan(row["ci_low"]) and math.isnan(row["ci_high"])
    assert row["agree"] == "yes"


def _table_rows(lines):
    return [line for line in lines if line.startswith("| ") and "---" not in line][1:]


def test_section_reports_each_comparison_and_explains_a_disagreement():
    rows = pd.DataFrame(
        _rows(PROCS, [2100, 2120, 2080], [2000, 2010, 1990])
        + _rows(THREADS, [2600, 2650, 2610], [2000, 1990, 2020])
    )
    lines = render_agree.section_lines(agreement.summarise(rows), None)
    text = "\n".join(lines)
    assert lines[0] == "## Checked against an independent tool"
    assert "| case | tool | switchbench (ns per switch) | tool (ns per switch) " in text
    table = _table_rows(lines)
    assert len(table) == 2
    assert table[0].endswith("| yes |") and table[1].endswith("| no |")
    assert "3 rounds" in text and "20,000 round trips" in text and "CPU 0" in text
    # The disagreement's sentence gives the ratio computed from the rows.
    ratio = np.median([2600, 2650, 2610]) / np.median([2000, 1990, 2020])
    said = [line for line in lines if "differ by more than" in line]
    assert len(said) == 1 and f"{ratio:.3g}" in said[0] and "`c.pipe.threads.same-core`" in said[0]
    assert "Every comparison agrees" not in text


def test_section_escapes_a_hostile_comparison_name():
    hostile = "<script>alert(1)</script>|`x`*[y](z)"
    rows = pd.DataFrame(_rows(hostile, [3000, 3100, 3050], [2000, 2000, 2000]))
    summary = agreement.summarise(rows)
    assert summary.iloc[0]["tool"] == agree.TOOL  # an unknown case: the tool by its name
    lines = render_agree.section_lines(summary, None)
    text = "\n".join(lines)
    assert "<script>" not in text and "[y](z)" not in text and "`x`" not in text
    (row,) = _table_rows(lines)
    # Six cells: the name's | is escaped and does not split the row.
    assert len(re.findall(r"(?<!\\)\|", row)) == 7
    assert any("differ by more than" in line and "\\<script\\>" in line for line in lines)


def test_section_escapes_a_hostile_reason():
    lines = render_agree.section_lines(None, "perf said <b>|boom|</b>")
    text = "\n".join(lines)
    assert "<b>" not in text and "\\|boom\\|" in text and agree.INSTALL_HINT in text


def test_nothing_to_say_gives_no_section():
    assert render_agree.section_lines(None, None) == []
