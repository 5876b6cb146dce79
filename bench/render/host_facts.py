"""host.json → the report's Host section: the machine's facts, one per line, under the
labels compare uses too (bench.analysis.host_facts)."""

from __future__ import annotations

from typing import Any

from bench.analysis.host_facts import machine_facts
from bench.render.fmt import md as _md


def host_lines(host: dict[str, Any]) -> list[str]:
    facts = machine_facts(host)
    return ["| | |", "|---|---|"] + [f"| {_md(k)} | {_md(v)} |" for k, v in facts.items()]
