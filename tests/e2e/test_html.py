"""report.html and compare.html in a real browser: headless Chromium (Debian's
package) driven by Playwright. They must load with no console error, show
every figure, fit a phone's width, and never run a script from a folder.

Skipped, with the reason, where Chromium is not installed; .ci/run installs
it and sets SWITCHBENCH_REQUIRE_BROWSER=1, which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench.render import compare, report
from tests.conftest import ROOT

REFERENCE = ROOT / "results" / "reference"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


def _unavailable(reason: str) -> None:
    if os.environ.get("SWITCHBENCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SWITCHBENCH_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = next(
        (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))),
        None,
    )
    if executable is None:
        _unavailable("Chromium is not installed (apt-get install chromium; .ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _open(browser: Any, page_path: Path, viewport: dict | None = None) -> dict[str, Any]:
    """Load a page; return what a reader would meet: problems, figures, dialogs, width."""
    page = browser.new_page(viewport=viewport)
    problems: list[str] = []
    dialogs: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url[:80]}"))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(page_path.as_uri())
    page.wait_for_load_state("load")
    seen = {
        "problems": problems,
        "dialogs": dialogs,
        "figures": page.eval_on_selector_all(
            "img", "els => els.map(e => ({alt: e.alt, ok: e.complete && e.naturalWidth > 0}))"
        ),
        "page_width": page.evaluate("document.documentElement.scrollWidth"),
        "text": page.inner_text("body"),
    }
    page.close()
    return seen


def _figures_named(markdown: str) -> int:
    return sum(line.startswith("![") for line in markdown.splitlines())


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "run"
    shutil.copytree(REFERENCE, out, ignore=shutil.ignore_patterns("raw", "*.png", "*.svg"))
    report.write_report(out)
    return out


def test_report_html_loads_cleanly_with_every_figure(browser: Any, run_folder: Path) -> None:
    seen = _open(browser, run_folder / "report.html")
    assert seen["problems"] == []
    expected = _figures_named((run_folder / "report.md").read_text())
    assert expected >= 4
    assert len(seen["figures"]) == expected
    assert all(f["ok"] for f in seen["figures"]), seen["figures"]
    assert "The answer" in seen["text"] and "go.chan.p1" in seen["text"]


def test_report_html_fits_a_phone(browser: Any, run_folder: Path) -> None:
    """Wide tables scroll inside their own box; the page itself does not."""
    seen = _open(browser, run_folder / "report.html", viewport=PHONE)
    assert seen["problems"] == []
    assert seen["page_width"] <= PHONE["width"]


def test_report_html_opens_offline_from_anywhere(browser: Any, run_folder: Path) -> None:
    """Everything is embedded: the page alone, moved away from its figures, still shows them."""
    lone = run_folder.parent / "lone"
    lone.mkdir()
    shutil.copy(run_folder / "report.html", lone / "report.html")
    seen = _open(browser, lone / "report.html")
    assert seen["problems"] == [] and all(f["ok"] for f in seen["figures"])


def test_compare_html_loads_cleanly_with_every_figure(
    browser: Any, run_folder: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    shutil.copytree(run_folder, other)
    samples = pd.read_csv(other / "samples.csv")
    samples["ns_per_switch"] *= 1.3
    samples.to_csv(other / "samples.csv", index=False)
    out = tmp_path / "cmp"
    compare.write_comparison([run_folder, other], out)
    seen = _open(browser, out / "compare.html")
    assert seen["problems"] == []
    expected = _figures_named((out / "compare.md").read_text())
    assert expected >= 4
    assert len(seen["figures"]) == expected and all(f["ok"] for f in seen["figures"])


def test_a_hostile_folder_runs_nothing_in_the_browser(browser: Any, tmp_path: Path) -> None:
    folder = tmp_path / "evil"
    shutil.copytree(REFERENCE, folder, ignore=shutil.ignore_patterns("raw", "*.png", "*.svg"))
    evil = "<script>alert('host')</script><img src=x onerror=\"alert('img')\">"
    host = json.loads((folder / "host.json").read_text())
    host["cpu_model"] = evil
    host["kernel"] = "[click](javascript:alert('link'))"
    (folder / "host.json").write_text(json.dumps(host))
    summary = pd.read_csv(folder / "summary.csv")
    summary.loc[summary["case"] == "c.spawn", "description"] = evil
    summary.to_csv(folder / "summary.csv", index=False)
    report.write_report(folder)
    seen = _open(browser, folder / "report.html")
    assert seen["dialogs"] == []
    assert seen["problems"] == []
    assert "<script>alert('host')</script>" in seen["text"]  # shown as text, not run
