"""host.json → the report's Host section: the machine's facts, one per line."""

from __future__ import annotations

import math
from typing import Any

from bench.analysis import comparison
from bench.render.fmt import md as _md


def _clock_text(clock: object) -> str | None:
    ghz = clock.get("ghz") if isinstance(clock, dict) else None
    return f"{ghz:.2f} GHz" if isinstance(ghz, int | float) and math.isfinite(ghz) else None


def host_lines(host: dict[str, Any]) -> list[str]:
    virt = host.get("virtualisation") or {}
    versions = host.get("versions") or {}
    stack = (host.get("ulimit_s") or {}).get("soft_bytes")
    stack_text = stack if isinstance(stack, str) else f"{stack // 1024} KiB" if stack else None
    facts = [
        ("CPU", host.get("cpu_model")),
        (
            "logical CPUs (usable)",
            f"{host.get('logical_cpus')} ({len(host.get('usable_cpus') or [])})",
        ),
        ("physical cores", host.get("physical_cores")),
        ("caches (CPU 0)", host.get("caches")),
        ("SMT active", (host.get("smt") or {}).get("active")),
        ("clock, measured", _clock_text(host.get("clock"))),
        ("kernel", host.get("kernel")),
        ("OS", host.get("os")),
        ("hypervisor", virt.get("vm") or ("yes" if virt.get("hypervisor_flag") else "none seen")),
        ("container", virt.get("container") or "none seen"),
        ("CPU frequency governor", host.get("cpufreq_governor") or "not exposed"),
        ("mitigations", comparison.mitigation_summary(host)),
        ("perf_event_paranoid", host.get("perf_event_paranoid")),
        ("ulimit -s", stack_text),
        ("Go", versions.get("go")),
        ("gcc", versions.get("gcc")),
        ("Python / pyperf", f"{versions.get('python')} / {versions.get('pyperf')}"),
    ]
    return ["| | |", "|---|---|"] + [f"| {_md(k)} | {_md(v)} |" for k, v in facts]
