"""A `run --go` folder (its index and a result folder per release) → go-releases.md and .html.

The index a reader opens first: which folder holds which release, each release's
goroutine switch and the timer semantics its leak scenarios ran, and where the
comparison is, with the one caution it needs (its C rows are one measurement shown
once per release).
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.catalogue.cases import GOROUTINE_CASE
from bench.errors import UsageError
from bench.measure.toolchains import COPIED
from bench.render import html, timers
from bench.render.fmt import code, md, ns
from bench.results import read
from bench.results.checks import JSON_LIMIT
from bench.results.schema import GO_RELEASES_JSON, GO_RELEASES_MD
from bench.results.write import atomic_write, read_json

# A folder name written by bench.measure.toolchains: a release's name or "local".
_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


def _entries(out: Path) -> tuple[list[dict[str, str]], str, str]:
    """The index's toolchains (each a plain folder inside out), where the C cases were
    measured, and the comparison's folder; a damaged index is one UsageError."""
    index = read_json(out / GO_RELEASES_JSON, JSON_LIMIT)
    entries = index.get("toolchains")
    damaged = UsageError(f"{out / GO_RELEASES_JSON} is damaged; run `switchbench run --go` again")
    if not isinstance(entries, list) or not entries:
        raise damaged
    for e in entries:
        fields = (
            [e.get(k) for k in ("requested", "version", "folder")] if isinstance(e, dict) else []
        )
        if len(fields) != 3 or not all(isinstance(f, str) for f in fields):
            raise damaged
        if not _FOLDER.fullmatch(e["folder"]) or ".." in e["folder"]:
            raise damaged
    first, compared = index.get("c_cases_measured_in"), index.get("compare")
    if (
        not isinstance(first, str)
        or not isinstance(compared, str)
        or not _FOLDER.fullmatch(compared)
    ):
        raise damaged
    return entries, first, compared


def _copied(folders: list[read.Folder]) -> set[str]:
    """The cases a later folder holds as copies of the first's (run.json's stop says so)."""
    found: set[str] = set()
    for data in folders[1:]:
        records = data.run.get("cases")
        for case, record in (records if isinstance(records, dict) else {}).items():
            if isinstance(record, dict) and COPIED in str(record.get("stop", "")):
                found.add(str(case))
    return found


def render_markdown(out: Path) -> str:
    entries, first, compared = _entries(out)
    folders = [read.load(out / e["folder"]) for e in entries]
    shared = _copied(folders)
    lines = [
        "# switchbench: Go releases side by side",
        "",
        "One run measured the Go cases under each release below, alternating releases "
        "case by case."
        + (
            f" The C cases ({len(shared)}) were measured once, in {md(first)}/, and copied "
            "into the other folders, so that each folder's report has its own thread switch."
            if shared
            else ""
        ),
        "",
        f"| asked for | go version | folder | goroutine switch ({code(GOROUTINE_CASE)}) |",
        "|---|---|---|---:|",
    ]
    for e, data in zip(entries, folders, strict=True):
        s = data.summary
        row = s[(s["case"] == GOROUTINE_CASE) & (s["status"] == "ok")]
        median = float(row.iloc[0]["ns_per_switch"]) if not row.empty else None
        lines.append(
            f"| {md(e['requested'])} | {md(data.host.get('versions', {}).get('go'))} "
            f"| {md(e['folder'])}/report.md | {ns(median)} |"
        )
    lines.append("")
    unfinished = [
        e["folder"]
        for e, d in zip(entries, folders, strict=True)
        if d.run.get("status") != "complete"
    ]
    if unfinished:
        lines += [
            f"Not complete: {', '.join(md(f) for f in unfinished)}. Finish each with "
            "`switchbench run --resume FOLDER`, then compare them, in this folder: "
            f"`switchbench compare {' '.join(e['folder'] for e in entries)} --out {compared}`.",
            "",
        ]
    for e, data in zip(entries, folders, strict=True):
        said = timers.section_lines(data.leaks)
        if said:
            lines += [f"## Leak scenarios under {md(e['requested'])}", "", *said]
    if len(entries) > 1 and (out / compared / "compare.md").is_file():
        lines += [
            "## The comparison",
            "",
            f"{md(compared)}/compare.md sets each release against the first; its table of "
            "what differs marks the Go version."
            + (
                " Its C rows are one measurement shown once per release (a ratio of 1.00× "
                "by construction): read its Go rows."
                if shared
                else ""
            ),
            "",
        ]
    return "\n".join(lines)


def write_index(out: Path) -> Path:
    """OUT/go-releases.md and .html; returns the Markdown's path."""
    text = render_markdown(out)
    path = atomic_write(out / GO_RELEASES_MD, text)
    html.write(text, out, GO_RELEASES_MD.replace(".md", ".html"), "switchbench: Go releases")
    return path
