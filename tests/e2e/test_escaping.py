"""Every text field of a result folder reaches report.html and compare.html as text.

A copy of results/reference gets a marker in every text field that report and compare
read: the summary's and the optional tables' text cells, host.json's and run.json's
strings, case ids (renamed in every file, so the folder stays consistent) and the
folder's name. Each field's marker carries an id of its own and a payload of markup
(a script element, an event handler, javascript: links in Markdown and in HTML, a
comment, an entity) and Markdown specials. The rendered pages are parsed with
html.parser (no browser): no script element, no on* attribute, no javascript: URL,
and each marker comes out whole, as the text of one text node.
"""

from __future__ import annotations

import json
import shutil
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench.render import compare, report
from tests.conftest import ROOT

REFERENCE = ROOT / "results" / "reference"
# Case ids with a marker make long tick labels; matplotlib says so, harmlessly.
pytestmark = pytest.mark.filterwarnings("ignore:Tight layout not applied:UserWarning")

PAYLOAD = (
    "<script>alert(1)</script><img src=x onerror=alert(1)>"
    "[x](javascript:alert(1))![i](javascript:alert(2))"
    '<a href="javascript:alert(3)">a</a><!--c-->'
    "*e* _u_ `c` | # ~ $ &amp; \\ !"
)
# A folder's name cannot hold "/": the same attacks without a closing tag.
NAME_PAYLOAD = "<script>alert(1)<img src=x onerror=alert(1)>[x](javascript:alert(1))*e* &amp; |"


def marker(field_id: str) -> str:
    return f"{{{field_id}}}{PAYLOAD}{{{field_id}}}"


FOLDER_ID = "F-folder"
FOLDER_MARKER = f"{{{FOLDER_ID}}}{NAME_PAYLOAD}{{{FOLDER_ID}}}"

# Columns whose values mean something to the code (a status, a kind, a profile's path,
# which side of a comparison a row is): a marker there changes what is shown or is
# refused (tests/test_hostile.py); they are left as they are.
MEANINGFUL = {"status", "kind", "sweep", "source", "suite_status"}
# Rows of leaks.csv that keep their scenario and version, so that the ticker lines
# (which name godebug and go_version) are still written.
TICKERS = ("ticker", "ticker-go123")
# A measured case turned into a failed one, so that the summary's reason is shown.
FAILED_CASE = "c.yield.same-core"


class Planter:
    """Plants one marker per field and remembers which field each id stands for."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def mark(self, field: str) -> str:
        field_id = self.fields.setdefault(field, f"F{len(self.fields):03d}")
        return marker(field_id)

    def id_of(self, field: str) -> str:
        return self.fields[field]


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _is_text(frame: pd.DataFrame, column: str) -> bool:
    """A column of words: some cell that is not a number, or a reason (often empty)."""
    cells = frame[column][frame[column] != ""]
    if column.endswith("reason"):
        return True
    return bool(len(cells)) and pd.to_numeric(cells, errors="coerce").isna().any()


def _plant_json(planter: Planter, prefix: str, value: Any) -> Any:
    """Every string of a JSON value (nulls where a string may stand too) marked."""
    if isinstance(value, str):
        return value + planter.mark(prefix)
    if isinstance(value, dict):
        return {k: _plant_json(planter, f"{prefix}.{k}", v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plant_json(planter, f"{prefix}[]", v) for v in value]
    return value


# host.json fields that are null in the reference and may hold text.
HOST_NULL_TEXT = (
    ("cpufreq_governor",),
    ("virtualisation", "dmi_product"),
    ("virtualisation", "sys_vendor"),
)


def plant(folder: Path) -> Planter:
    planter = Planter()
    summary = _csv(folder / "summary.csv")
    case_marker = planter.mark("case id")
    renamed = {c: c + case_marker for c in summary["case"]}

    # summary.csv: case ids, every text column; one case failed, with a reason.
    failed = summary["case"] == FAILED_CASE
    assert failed.any()
    summary.loc[failed, "status"] = "failed"
    for column in summary.columns:
        if column == "case":
            summary[column] = summary[column].map(renamed)
        elif column not in MEANINGFUL and _is_text(summary, column):
            summary[column] = summary[column] + planter.mark(f"summary.csv:{column}")
    summary.to_csv(folder / "summary.csv", index=False)

    samples = _csv(folder / "samples.csv")
    samples["case"] = samples["case"].map(renamed)
    samples.to_csv(folder / "samples.csv", index=False)

    # The optional tables: case ids renamed where they name a case, the rest marked.
    for name in (
        "leaks.csv",
        "overhead.csv",
        "agreement.csv",
        "memory.csv",
        "thread_stacks.csv",
        "stack_growth.csv",
        "system.csv",
    ):
        frame = _csv(folder / name)
        if name == "leaks.csv":  # one failed row, so that its reason is shown
            frame.loc[frame["scenario"] == "receiver", "status"] = "failed"
        for column in frame.columns:
            if column in MEANINGFUL or column.endswith("_profile"):
                continue
            if (name, column) in (("system.csv", "case"), ("overhead.csv", "suite_case")):
                frame[column] = frame[column].map(lambda c: renamed.get(c, c))
                continue
            if not _is_text(frame, column):
                continue
            rows = pd.Series(True, index=frame.index)
            if name == "leaks.csv" and column in ("scenario", "version"):
                rows = ~frame["scenario"].isin(TICKERS)
            frame.loc[rows, column] = frame.loc[rows, column] + planter.mark(f"{name}:{column}")
        frame.to_csv(folder / name, index=False)

    host = json.loads((folder / "host.json").read_text())
    for path in HOST_NULL_TEXT:
        parent = host
        for key in path[:-1]:
            parent = parent[key]
        assert parent[path[-1]] is None, path
        parent[path[-1]] = ""
    host["ulimit_s"]["soft_bytes"] = ""  # an int or text: text here
    schema = host.pop("schema_version")
    host = _plant_json(planter, "host.json", host)
    host["schema_version"] = schema
    vulnerabilities = host["mitigations"]["vulnerabilities"]
    host["mitigations"]["vulnerabilities"] = {
        k + planter.mark("host.json:mitigations.vulnerabilities{key}"): v
        for k, v in vulnerabilities.items()
    }
    (folder / "host.json").write_text(json.dumps(host) + "\n")

    run = json.loads((folder / "run.json").read_text())
    selected, cases = run.pop("selected"), run.pop("cases")
    cases[FAILED_CASE]["status"] = "failed"
    run = _plant_json(planter, "run.json", run)
    run["selected"] = [renamed[c] for c in selected]
    run["cases"] = {
        renamed[k]: _plant_json(planter, "run.json:cases{}", v) for k, v in cases.items()
    }
    (folder / "run.json").write_text(json.dumps(run) + "\n")
    return planter


# ---- reading the HTML ------------------------------------------------------------


class Page(HTMLParser):
    """Every start tag with its attributes, and every text node."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def page_of(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def parse(path: Path) -> Page:
    return page_of(path.read_text(encoding="utf-8"))


def _url(value: str | None) -> str:
    """An attribute value as a browser reads a URL's scheme: no whitespace or control
    characters, any case."""
    return "".join(c for c in (value or "") if c > " ").lower()


def check_no_live_markup(page: Page) -> None:
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags
    for tag, attrs in page.tags:
        handlers = [name for name in attrs if name.lower().startswith("on")]
        assert not handlers, (tag, handlers)
        for name, value in attrs.items():
            assert not _url(value).startswith("javascript:"), (tag, name, value)
    assert tags.count("a") == 0, "a link made of folder text"
    assert not page.comments


def shown_fields(page: Page, planter: Planter) -> set[str]:
    """The fields whose marker appears in the page; each appearance must be the whole
    marker inside one text node (an attribute value other than an embedded figure
    counts as a node too)."""
    nodes = list(page.texts)
    nodes += [
        value
        for _, attrs in page.tags
        for value in attrs.values()
        if value and not value.startswith("data:image/png;base64,")
    ]
    ids = {**{v: k for k, v in planter.fields.items()}, FOLDER_ID: "the folder's name"}
    shown = set()
    for field_id, field in ids.items():
        whole = FOLDER_MARKER if field_id == FOLDER_ID else marker(field_id)
        tag = f"{{{field_id}}}"
        for node in nodes:
            if tag in node:
                assert node.count(tag) == 2 * node.count(whole), (field, node)
                shown.add(field)
    return shown


# ---- the pages --------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("escaping")
    ignore = shutil.ignore_patterns("raw", "suite.json", "leaks", "*.png", "*.svg", "report.*")
    folder = base / ("run" + FOLDER_MARKER)
    shutil.copytree(REFERENCE, folder, ignore=ignore)
    planter = plant(folder)
    report.write_report(folder)
    pristine = base / "reference"
    shutil.copytree(REFERENCE, pristine, ignore=ignore)
    # The hostile folder as the run compared, and as the first run, set against.
    compare.write_comparison([pristine, folder], base / "second")
    compare.write_comparison([folder, pristine], base / "first")
    return {
        "planter": planter,
        "report.html": parse(folder / "report.html"),
        "compare.html, second": parse(base / "second" / "compare.html"),
        "compare.html, first": parse(base / "first" / "compare.html"),
    }


PAGES = ["report.html", "compare.html, second", "compare.html, first"]


@pytest.mark.parametrize(
    "html",
    [
        "<p>x</p><script>alert(1)</script>",
        '<p>x</p><SCRIPT src="x.js"></SCRIPT>',
        '<img src="data:image/png;base64,AA" onerror="alert(1)">',
        '<p onClick="alert(1)">x</p>',
        '<img src=" JaVa\tScript:alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="https://example.invalid/">x</a>',
        "<p>x<!--c--></p>",
    ],
)
def test_the_checks_catch_live_markup(html):
    with pytest.raises(AssertionError):
        check_no_live_markup(page_of(html))


def test_the_checks_see_a_marker_cut_by_markup():
    planter = Planter()
    whole = planter.mark("a field")
    assert shown_fields(page_of(f"<p>{escape(whole)}</p>"), planter) == {"a field"}
    head, tail = whole.split("*e*")
    cut = page_of(f"<p>{escape(head)}<em>e</em>{escape(tail)}</p>")
    with pytest.raises(AssertionError):
        shown_fields(cut, planter)


@pytest.mark.parametrize("page", PAGES)
def test_no_script_handler_or_javascript_url(rendered, page):
    check_no_live_markup(rendered[page])


# The fields each page shows, by design; each must come out as whole text.
REPORT_SHOWS = {
    "the folder's name",
    "case id",
    "summary.csv:reason",
    "summary.csv:description",
    "summary.csv:unit",
    "summary.csv:one_op",
    "summary.csv:trust",
    "summary.csv:stop",
    "summary.csv:os_ctx_source",
    "summary.csv:os_ctx_check",
    "host.json.cpu_model",
    "host.json.caches",
    "host.json.kernel",
    "host.json.os",
    "host.json.virtualisation.vm",
    "host.json.virtualisation.container",
    "host.json.cpufreq_governor",
    "host.json.mitigations.boot_option",
    "host.json:mitigations.vulnerabilities{key}",
    "host.json.ulimit_s.soft_bytes",
    "host.json.versions.go",
    "host.json.versions.gcc",
    "host.json.versions.python",
    "host.json.versions.pyperf",
    "host.json.counters.cycles.reason",
    "run.json.status",
    "run.json.profile",
    "run.json.started_utc",
    "leaks.csv:scenario",
    "leaks.csv:version",
    "leaks.csv:go_version",
    "leaks.csv:godebug",
    "leaks.csv:top_stack",
    "leaks.csv:goroutineleak_reason",
    "leaks.csv:reason",
    "overhead.csv:case",
    "overhead.csv:what",
    "overhead.csv:measured",
    "agreement.csv:comparison",
    "memory.csv:ulimit_s",
    "memory.csv:reason",
    "thread_stacks.csv:ulimit_s",
    "stack_growth.csv:reason",
}
COMPARE_SHOWS = {
    "the folder's name",
    "case id",
    "host.json.cpu_model",
    "host.json.caches",
    "host.json.kernel",
    "host.json.os",
    "host.json.virtualisation.vm",
    "host.json.virtualisation.container",
    "host.json.cpufreq_governor",
    "host.json.mitigations.boot_option",
    "host.json:mitigations.vulnerabilities{key}",
    "host.json.ulimit_s.soft_bytes",
    "host.json.versions.go",
    "host.json.versions.gcc",
    "host.json.versions.switchbench",
    "run.json.profile",
}


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("report.html", REPORT_SHOWS),
        ("compare.html, second", COMPARE_SHOWS),
        ("compare.html, first", COMPARE_SHOWS),
    ],
)
def test_every_field_shown_comes_out_as_whole_text(rendered, page, expected):
    shown = shown_fields(rendered[page], rendered["planter"])
    assert expected <= shown, sorted(expected - shown)
