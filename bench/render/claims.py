"""The claims (bench.analysis.claims) → the report's first section: figure, verdict, rule."""

from __future__ import annotations

from bench.analysis.claims import Claim, all_claims
from bench.render.fmt import md
from bench.results import read

TITLE = "## The study note's claims, checked on this machine"


def _why(c: Claim) -> str:
    return md(c.why) if c.why else ""


def claim_lines(claims: list[Claim]) -> list[str]:
    """The table of claims and, below it, the rule each verdict follows."""
    lines = [
        "",
        TITLE,
        "",
        "The claims switchbench exists to test, each with the figure this run measured and "
        "a verdict computed from it by the rule stated below the table (never typed in).",
        "",
        "| claim | measured here | verdict | qualification, or why |",
        "|---|---|---|---|",
    ]
    for c in claims:
        # The claim and its rule are the suite's own words; what the run measured, and
        # every reason, may carry a folder's strings, so they are escaped.
        lines.append(f"| {c.claim} | {md(c.figure)} | **{c.verdict}** | {_why(c)} |")
    lines += ["", "How each verdict is computed:", ""]
    for number, c in enumerate(claims, 1):
        lines.append(f"{number}. {c.rule} (from {', '.join(c.sources)})")
    return [*lines, ""]


def section_lines(data: read.Folder) -> list[str]:
    return claim_lines(all_claims(data))
