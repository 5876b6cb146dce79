"""Harness overhead: the minimal loops with no harness, the timer, and the report's section."""

import re

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from bench.errors import UsageError
from bench.render import overhead as render_overhead
from bench.results import read, schema


def _suite_summary(figures: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"case": case, "status": "ok", "ns_per_switch": ns, "ci_low": ns, "ci_high": ns}
            for case, ns in figures.items()
        ]
    )


def test_section_agreement_is_computed(tmp_path):
    rows = []
    for case in ("go.chan.p1", "c.condvar.same-core"):
        row = dict.fromkeys(schema.OVERHEAD_COLUMNS, "")
        row.update(case=f"minimal.{case}", kind="loop", suite_case=case, status="ok")
        row.update(minimal_ns=100.0)
        rows.append(row)
    pd.DataFrame(rows).to_csv(tmp_path / schema.OVERHEAD_CSV, index=False)
    summary = _suite_summary({"go.chan.p1": 105.0, "c.condvar.same-core": 130.0})
    text = "\n".join(render_overhead.section_lines(read.load_overhead(tmp_path), summary))
    assert "`go.chan.p1`: the suite and the minimal loop agree within 10%" in text
    assert "`c.condvar.same-core` (+30%): the suite and the minimal loop differ" in text
    assert "| 1.3 |" in text  # suite / minimal, computed from summary.csv's figure


def test_an_old_folders_suite_columns_are_computed_again(tmp_path):
    """Before schema 3 overhead.csv carried the suite's figures; they are dropped on
    reading and taken from summary.csv, so a stale copy cannot disagree with it."""
    row = dict.fromkeys(schema.OVERHEAD_COLUMNS, "")
    row.update(case="minimal.go.chan.p1", kind="loop", suite_case="go.chan.p1", status="ok")
    row.update(minimal_ns=100.0, suite_status="ok", suite_ns=999.0, ratio=9.99)
    pd.DataFrame([row]).to_csv(tmp_path / schema.OVERHEAD_CSV, index=False)
    frame = read.load_overhead(tmp_path)
    assert not set(schema.OVERHEAD_SUITE_COLUMNS) & set(frame.columns)
    text = "\n".join(render_overhead.section_lines(frame, _suite_summary({"go.chan.p1": 120.0})))
    assert "| 1.2 |" in text and "9.99" not in text
    absent = "\n".join(render_overhead.section_lines(frame, pd.DataFrame()))
    assert "not measured (absent)" in absent


HOSTILE = "<script>alert(1)</script> | **x** [y](javascript:z) `q` _u_ # &amp;"


NUMERIC_OVERHEAD_COLUMNS = {
    "minimal_ns", "ci_low", "ci_high", "round_trips", "samples", "processes",
}  # fmt: skip


def test_section_escapes_hostile_strings(tmp_path):
    rows = []
    for kind in ("loop", "timer cost", "timer resolution"):
        for status in ("ok", "failed"):
            # Hostile text in every text column; numeric ones must hold numbers (a folder
            # whose numbers are text is refused whole: tests/test_hostile.py).
            row = {
                c: "" if c in NUMERIC_OVERHEAD_COLUMNS else HOSTILE for c in schema.OVERHEAD_COLUMNS
            }
            row.update(kind=kind, status=status, minimal_ns=100, samples=3, round_trips=10)
            rows.append(row)
    pd.DataFrame(rows).to_csv(tmp_path / schema.OVERHEAD_CSV, index=False)
    summary = pd.DataFrame([{"case": HOSTILE, "status": HOSTILE, "ns_per_switch": 1.0}])
    lines = render_overhead.section_lines(read.load_overhead(tmp_path), summary)
    text = "\n".join(lines)
    assert "<" not in text.replace("\\<", "")  # every < escaped, so no raw HTML
    # Rendered as report.html renders it: nothing of the string becomes markup.
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    for markup in ("<script", "<a ", "<strong>x", "<em>u", "<code>q", "<h1>"):
        assert markup not in html
    for line in lines:
        if line.startswith("|"):
            # Every row of a table has as many unescaped pipes as its header.
            cells = len(re.findall(r"(?<!\\)\|", line))
            assert cells in (4, 7), line


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00garbage", b'case,status\n"unterminated\n', b"a,b\n1,2\n"],
)
def test_a_damaged_file_is_refused_in_one_line(tmp_path, content):
    (tmp_path / schema.OVERHEAD_CSV).write_bytes(content)
    with pytest.raises(UsageError, match=schema.OVERHEAD_CSV):
        read.load_overhead(tmp_path)


def test_no_file_no_section(tmp_path):
    assert read.load_overhead(tmp_path) is None
    assert render_overhead.section_lines(None, pd.DataFrame()) == []
