"""The package's layout as bench/DESIGN.md draws it: imports follow the data's one way,
and the README's Layout section names every subpackage that exists."""

import ast
import re
from collections.abc import Iterable
from pathlib import Path

from tests.conftest import ROOT

# The stages in the order data flows through them (bench/DESIGN.md).
STAGES = ("catalogue", "native", "measure", "results", "analysis", "render", "cli")
# Modules every stage may use: the result folder's format and writer, and pure leaves
# that import no later stage: statistics and the mood adjustment (the runner stops on a
# CI; the latency step keeps percentiles of its 100,000 hand-offs per case, not the
# hand-offs themselves), numbers and Markdown in words.
SHARED = {
    "bench.analysis.latency",
    "bench.errors",
    "bench.results.schema",
    "bench.results.write",
    "bench.results.checks",
    "bench.analysis.stats",
    "bench.analysis.mood",
    "bench.render.fmt",
}
# The run's drivers: they finish a run by calling the later stages (summary, report).
DRIVERS = {"bench.measure.session", "bench.measure.steps", "bench.measure.selfbench"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / "bench").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(p for p in parts if p != "__init__")] = path
    return out


def _imports(path: Path, modules: Iterable[str]) -> set[str]:
    """The bench modules a file imports: for `from bench.x import y`, the module
    bench.x.y where y is one, else bench.x."""
    known = set(modules)
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                names.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return {n for n in names if n.startswith("bench.")}


def _stage(module: str) -> int | None:
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[1] in STAGES else None


def _later_imports(modules: dict[str, Path]) -> list[str]:
    wrong = []
    for module, path in sorted(modules.items()):
        mine = _stage(module)
        if mine is None or module in DRIVERS:
            continue
        for name in sorted(_imports(path, modules)):
            target = next((m for m in modules if name == m), None)
            theirs = _stage(name)
            if target is None or target in SHARED or theirs is None:
                continue
            if theirs > mine:
                wrong.append(f"{module} imports {target}")
    return wrong


def test_no_stage_imports_a_later_one():
    assert _later_imports(_modules()) == []


def test_the_check_catches_a_backward_import(tmp_path, monkeypatch):
    """The rule can fail: a catalogue module that imports the report is reported."""
    modules = _modules()
    bad = tmp_path / "bad.py"
    bad.write_text("from bench.render import report\n")
    modules["bench.catalogue.bad"] = bad
    assert _later_imports(modules) == ["bench.catalogue.bad imports bench.render.report"]


def test_the_readme_layout_names_every_subpackage():
    text = (ROOT / "README.md").read_text()
    layout = text[text.index("## Layout") :]
    named = set(re.findall(r"`bench/(\w+)/`", layout))
    present = {p.name for p in (ROOT / "bench").iterdir() if (p / "__init__.py").is_file()}
    assert named == present
    assert set(STAGES) == present
