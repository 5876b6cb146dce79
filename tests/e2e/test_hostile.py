"""A damaged or hostile result folder: refused whole with one line and exit 2, or
reported cleanly; never a traceback, never a file changed outside the folder and
--out, never live markup or a foreign file in report.html."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from bench import cli
from bench.results import checks, schema
from tests.conftest import ROOT

REFERENCE = ROOT / "results" / "reference"
DATA_FILES = (
    "summary.csv",
    "samples.csv",
    "host.json",
    "run.json",
    "memory.csv",
    "thread_stacks.csv",
    "stack_growth.csv",
    "leaks.csv",
    "overhead.csv",
    "system.csv",
)


def _copy(target: Path) -> Path:
    """The reference folder without what report and compare never read."""
    shutil.copytree(REFERENCE, target, ignore=shutil.ignore_patterns("raw", "suite.json", "leaks"))
    return target


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return _copy(tmp_path_factory.mktemp("pristine") / "reference")


@pytest.fixture
def run_copy(tmp_path) -> Path:
    return _copy(tmp_path / "run")


def _snapshot(*roots: Path) -> dict[str, str]:
    """Every entry under the roots: a file's hash, a link's target."""
    seen = {}
    for root in roots:
        for path in sorted([root, *root.rglob("*")]) if root.exists() else []:
            if path.is_symlink():
                seen[str(path)] = "link:" + os.readlink(path)
            elif path.is_file():
                seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                seen[str(path)] = "dir"
    return seen


def _main(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.err


def _refused(capsys, *argv: str) -> str:
    code, err = _main(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("switchbench: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _both_refuse(capsys, folder: Path, pristine: Path, tmp_path: Path) -> list[str]:
    """report and compare (as either run) all refuse the folder, and touch nothing."""
    before = _snapshot(folder, pristine)
    out = tmp_path / "cmp-out"
    lines = [_refused(capsys, "report", str(folder))]
    lines.append(_refused(capsys, "compare", str(pristine), str(folder), "--out", str(out)))
    lines.append(_refused(capsys, "compare", str(folder), str(pristine), "--out", str(out)))
    assert _snapshot(folder, pristine) == before
    assert not out.exists()
    return lines


def _mid_row_cuts(data: bytes) -> list[int]:
    """Cut points spread over the file, each inside a line (not right after a newline)."""
    cuts = []
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        cut = max(1, min(len(data) - 2, int(len(data) * share)))
        while cut > 1 and data[cut - 1 : cut] == b"\n":
            cut -= 1
        cuts.append(cut)
    return sorted(set(cuts))


@pytest.mark.parametrize("name", DATA_FILES)
def test_a_file_cut_off_anywhere_is_refused_and_nothing_changes(
    name, run_copy, pristine, tmp_path, capsys
):
    original = (run_copy / name).read_bytes()
    for cut in _mid_row_cuts(original):
        (run_copy / name).write_bytes(original[:cut])
        lines = _both_refuse(capsys, run_copy, pristine, tmp_path)
        assert name in lines[0]
    (run_copy / name).write_bytes(original)


@pytest.mark.parametrize("name", ["summary.csv", "samples.csv"])
def test_a_table_cut_at_a_row_boundary_is_refused(name, run_copy, pristine, tmp_path, capsys):
    """A CSV cut right after a newline is a valid shorter CSV: counts across files catch it."""
    original = (run_copy / name).read_bytes()
    for keep in (0.3, 0.9):
        cut = original.rindex(b"\n", 0, int(len(original) * keep)) + 1
        (run_copy / name).write_bytes(original[:cut])
        line = _both_refuse(capsys, run_copy, pristine, tmp_path)[0]
        assert "cut off" in line


def _edit_csv(path: Path, change) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame)
    frame.to_csv(path, index=False)


def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data) + "\n")


def test_wrong_types_are_one_line_each(run_copy, pristine, tmp_path, capsys):
    host, run = run_copy / "host.json", run_copy / "run.json"
    cases = [
        (run, lambda d: d.update(wall_s="abc"), "wall_s"),
        (host, lambda d: d.update(smt="yes"), "smt"),
        (host, lambda d: d["counters"].update(cycles=[1, 2]), "counters"),
        (run_copy / "summary.csv", lambda f: f.loc[0, ["processes"]].update(["abc"]), None),
    ]
    for path, change, word in cases[:3]:
        saved = path.read_bytes()
        _edit_json(path, change)
        assert word in _both_refuse(capsys, run_copy, pristine, tmp_path)[0]
        path.write_bytes(saved)
    saved = (run_copy / "summary.csv").read_bytes()

    def processes(frame: pd.DataFrame) -> None:
        frame.loc[0, "processes"] = "abc"

    _edit_csv(run_copy / "summary.csv", processes)
    line = _both_refuse(capsys, run_copy, pristine, tmp_path)[0]
    assert "processes" in line and "abc" in line
    (run_copy / "summary.csv").write_bytes(saved)


def test_a_negative_value_is_shown_plainly(run_copy, pristine, tmp_path, capsys):
    def negative(frame: pd.DataFrame) -> None:
        frame.loc[0, "ns_per_switch"] = "-5.0"

    _edit_csv(run_copy / "summary.csv", negative)
    line = _both_refuse(capsys, run_copy, pristine, tmp_path)[0]
    assert "-5.0" in line and "np." not in line and "float64" not in line


def test_missing_columns_are_named_a_few_at_a_time(run_copy, pristine, tmp_path, capsys):
    frame = pd.read_csv(run_copy / "summary.csv", dtype=str, keep_default_na=False)
    frame[["case", "status"]].to_csv(run_copy / "summary.csv", index=False)
    line = _both_refuse(capsys, run_copy, pristine, tmp_path)[0]
    assert "more" in line and len(line) < 300
    samples = pd.read_csv(REFERENCE / "samples.csv", dtype=str, keep_default_na=False)
    shutil.copy(REFERENCE / "summary.csv", run_copy / "summary.csv")
    samples.drop(columns=["kind"]).to_csv(run_copy / "samples.csv", index=False)
    assert "kind" in _both_refuse(capsys, run_copy, pristine, tmp_path)[0]
    shutil.copy(REFERENCE / "samples.csv", run_copy / "samples.csv")
    system = pd.read_csv(REFERENCE / "system.csv", dtype=str, keep_default_na=False)
    system.drop(columns=["t_s"]).to_csv(run_copy / "system.csv", index=False)
    assert "t_s" in _both_refuse(capsys, run_copy, pristine, tmp_path)[0]


def test_files_that_are_not_regular_files_are_refused(run_copy, pristine, tmp_path, capsys):
    host = run_copy / "host.json"
    host.unlink()
    host.symlink_to("/dev/zero")
    assert "symbolic link" in _both_refuse(capsys, run_copy, pristine, tmp_path)[0]
    host.unlink()
    os.mkfifo(host)  # would hang a reader that waits for a writer
    assert "not a regular file" in _both_refuse(capsys, run_copy, pristine, tmp_path)[0]
    host.unlink()
    secret = tmp_path / "secret.json"
    shutil.copy(REFERENCE / "host.json", secret)
    host.symlink_to(secret)  # even a link to a good file: only regular files are read
    _both_refuse(capsys, run_copy, pristine, tmp_path)


def test_oversized_and_deep_inputs_are_refused_quickly(run_copy, pristine, tmp_path, capsys):
    (run_copy / "host.json").write_text("[" * 200_000 + "]" * 200_000 + "\n")
    assert "host.json" in _both_refuse(capsys, run_copy, pristine, tmp_path)[0]
    shutil.copy(REFERENCE / "host.json", run_copy / "host.json")
    rows = "case,process,sample,kind,ns_per_switch\n" + "go.chan.p1,1,1,timed,1\n" * 2_000_000
    (run_copy / "samples.csv").write_text(rows)
    assert "samples.csv" in _both_refuse(capsys, run_copy, pristine, tmp_path)[0]
    shutil.copy(REFERENCE / "samples.csv", run_copy / "samples.csv")
    summary = pd.read_csv(REFERENCE / "summary.csv", dtype=str, keep_default_na=False)
    many = pd.concat([summary.iloc[[0]]] * 100_000, ignore_index=True)
    many["case"] = [f"c{i}" for i in range(len(many))]
    many.to_csv(run_copy / "summary.csv", index=False)
    assert "summary.csv" in _both_refuse(capsys, run_copy, pristine, tmp_path)[0]


def test_a_profile_path_outside_leaks_is_refused(run_copy, pristine, tmp_path, capsys):
    def outside(frame: pd.DataFrame) -> None:
        frame.loc[0, "goroutine_profile"] = "../../etc/passwd"

    _edit_csv(run_copy / "leaks.csv", outside)
    assert "leaks/NAME.pb.gz" in _both_refuse(capsys, run_copy, pristine, tmp_path)[0]


# ---- symlinks planted among the outputs -------------------------------------------


@pytest.mark.parametrize("name", ["report.md", "report.html", "ns_per_switch.png", "memory.svg"])
def test_an_output_planted_as_a_symlink_is_never_written_through(name, run_copy, tmp_path, capsys):
    victim = tmp_path / "bashrc"
    victim.write_text("echo safe\n")
    (run_copy / name).unlink(missing_ok=True)
    (run_copy / name).symlink_to(victim)
    before = _snapshot(run_copy)
    line = _refused(capsys, "report", str(run_copy))
    assert "symbolic link" in line
    assert victim.read_text() == "echo safe\n"
    assert _snapshot(run_copy) == before  # refused before anything was written


def test_old_temp_names_planted_as_symlinks_are_harmless(run_copy, tmp_path, capsys):
    victim = tmp_path / "bashrc"
    victim.write_text("echo safe\n")
    for name in ("report.md.tmp", "report.html.tmp", "summary.csv.tmp"):
        (run_copy / name).symlink_to(victim)
    code, err = _main(capsys, "report", str(run_copy))
    assert code == 0, err
    assert victim.read_text() == "echo safe\n"


def test_compare_refuses_a_symlinked_or_non_empty_out(pristine, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "out-link"
    link.symlink_to(elsewhere)
    assert "symbolic link" in _refused(
        capsys, "compare", str(pristine), str(pristine), "--out", str(link)
    )
    assert list(elsewhere.iterdir()) == []
    full = tmp_path / "full"
    full.mkdir()
    (full / "compare.md").write_text("mine\n")
    _refused(capsys, "compare", str(pristine), str(pristine), "--out", str(full))
    assert (full / "compare.md").read_text() == "mine\n"


# ---- markup and formulas from the folder ------------------------------------------

# Every way a string could become markup, a link, an embedded file, mathtext, a
# terminal escape or a bidi override. No "/" or NUL, so it can also be a folder name.
MARKER = "M<b>x</b>[L](x.invalid)![I](leak.png)$x^2$ &amp; *e* _u_ `c`\u202e\x1b[31m|"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "ul", "li",
    "ol", "table", "thead", "tbody", "tr", "th", "td", "div", "em", "strong", "code", "img",
    "br", "hr",
}  # fmt: skip


def _check_html(path: Path, drawn_prefix: str) -> None:
    parser = _Tags()
    text = path.read_text()
    parser.feed(text)
    tags = {tag for tag, _ in parser.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    for tag, attrs in parser.tags:
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
    assert "<b>x</b>" not in text and "\u202e" not in text and "\x1b" not in text


TEXT_COLUMNS = set(schema.SUMMARY_TEXT) | {
    c
    for kinds in (schema.MEMORY_KINDS, schema.STACK_KINDS, schema.GROWTH_KINDS)
    for c, kind in kinds.items()
    if kind == checks.TEXT
} - {"ulimit_s"}


def _plant(folder: Path) -> None:
    """The marker in every text field of every file (case ids renamed consistently)."""
    summary = pd.read_csv(folder / "summary.csv", dtype=str, keep_default_na=False)
    renamed = {c: c + MARKER for c in summary["case"]}
    for name in DATA_FILES:
        path = folder / name
        if name.endswith(".json"):
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        numeric = pd.DataFrame({c: pd.to_numeric(frame[c], errors="coerce") for c in frame})
        for column in frame.columns:
            if column in ("case", "suite_case"):
                frame[column] = frame[column].map(lambda c: renamed.get(c, c + MARKER if c else c))
            elif column in ("status", "kind", "sweep") or column.endswith("_profile"):
                continue  # values with a meaning; a marker there is refused, tested above
            elif column in TEXT_COLUMNS or (
                (frame[column] != "").any() and numeric[column][frame[column] != ""].isna().all()
            ):
                frame[column] = frame[column] + MARKER
        frame.to_csv(path, index=False)

    def strings(value):
        if isinstance(value, str):
            return value + MARKER
        if isinstance(value, dict):
            return {k: strings(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strings(v) for v in value]
        return value

    host = json.loads((folder / "host.json").read_text())
    (folder / "host.json").write_text(json.dumps(strings(host)) + "\n")
    run = json.loads((folder / "run.json").read_text())
    run["selected"] = [renamed[c] for c in run["selected"]]
    run["cases"] = {renamed.get(k, k): v for k, v in run["cases"].items()}
    run["profile"] = run["profile"] + MARKER
    run["started_utc"] = run["started_utc"] + MARKER
    (folder / "run.json").write_text(json.dumps(run) + "\n")


def test_a_marker_in_every_field_never_becomes_markup(tmp_path, pristine, capsys):
    folder = _copy(tmp_path / ("run" + MARKER))
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT")
    (folder / "leak.png").symlink_to(secret)
    _plant(folder)
    outside = _snapshot(tmp_path / "secret.txt", pristine)
    code, err = _main(capsys, "report", str(folder))
    assert code == 0, err
    _check_html(folder / "report.html", "")
    report_md = (folder / "report.md").read_text()
    assert "[L](x.invalid)" not in report_md and "<b>" not in report_md
    out = tmp_path / "cmp"
    code, err = _main(capsys, "compare", str(pristine), str(folder), "--out", str(out))
    assert code == 0, err
    _check_html(out / "compare.html", "compare_")
    assert "U0VDUkVU" not in (folder / "report.html").read_text()  # base64 of "SECRET"
    assert _snapshot(tmp_path / "secret.txt", pristine) == outside


def test_an_error_line_shows_control_and_bidi_characters_escaped(tmp_path, capsys):
    folder = tmp_path / "evil\u202e\x1b[2J"
    folder.mkdir()
    line = _refused(capsys, "report", str(folder))
    assert "\u202e" not in line and "\x1b" not in line and "\\u202e" in line


def test_formulas_are_neutralised_in_compare_csv(tmp_path, capsys):
    a = _copy(tmp_path / "=HYPERLINK(a)")
    b = _copy(tmp_path / "@SUM(b)")
    for folder in (a, b):
        _edit_csv(folder / "summary.csv", lambda f: None)
    out = tmp_path / "cmp"
    code, err = _main(capsys, "compare", str(a), str(b), "--out", str(out))
    assert code == 0, err
    table = pd.read_csv(out / "compare.csv", dtype=str, keep_default_na=False)
    labels = set(table["label"])
    assert labels == {"'=HYPERLINK(a)", "'@SUM(b)"}
    for column in table.columns:
        for cell in table[column]:
            assert not cell.startswith(("=", "+", "@")), (column, cell)
            assert not cell.startswith("-") or _is_number(cell), (column, cell)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_all_numeric_case_ids_are_reported(run_copy, tmp_path, capsys):
    summary = pd.read_csv(run_copy / "summary.csv", dtype=str, keep_default_na=False)
    renamed = {c: str(1000 + i) for i, c in enumerate(summary["case"])}
    for name in ("summary.csv", "samples.csv"):
        _edit_csv(run_copy / name, lambda f: f.__setitem__("case", f["case"].map(renamed)))
    _edit_json(
        run_copy / "run.json",
        lambda d: d.update(
            selected=[renamed[c] for c in d["selected"]],
            cases={renamed[k]: v for k, v in d["cases"].items()},
        ),
    )
    code, err = _main(capsys, "report", str(run_copy))
    assert code == 0, err
    assert "`1000`" in (run_copy / "report.md").read_text()
