"""Harness overhead: the minimal loops with no harness, the timer, and the report's section."""

import re

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from bench.errors import UsageError
from bench.render import overhead as render_overhead
from bench.results import read, schema


def test_section_agreement_is_computed(tmp_path):
    rows = []
    for case, suite, minimal in (("go.chan.p1", 105.0, 100.0), ("c.condvar.same-core", 130, 100)):
        row = dict.fromkeys(schema.OVERHEAD_COLUMNS, "")
        row.update(case=f"minimal.{case}", kind="loop", suite_case=case, status="ok")
        row.update(suite_status="ok", suite_ns=suite, minimal_ns=minimal, ratio=suite / minimal)
        rows.append(row)
    pd.DataFrame(rows).to_csv(tmp_path / schema.OVERHEAD_CSV, index=False)
    text = "\n".join(render_overhead.section_lines(read.load_overhead(tmp_path)))
    assert "`go.chan.p1`: the suite and the minimal loop agree within 10%" in text
    assert "`c.condvar.same-core` (+30%): the suite and the minimal loop differ" in text


HOSTILE = "<script>alert(1)</script> | **x** [y](javascript:z) `q` _u_ # &amp;"


NUMERIC_OVERHEAD_COLUMNS = {
    "minimal_ns", "ci_low", "ci_high", "suite_ns", "suite_ci_low", "suite_ci_high", "ratio",
    "round_trips", "samples", "processes",
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
    lines = render_overhead.section_lines(read.load_overhead(tmp_path))
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
    assert render_overhead.section_lines(None) == []
