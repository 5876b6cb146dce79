"""host.json → the machine's facts, labelled once, in the order both the report's Host
section and compare's "What differs between the machines" list them."""

from __future__ import annotations

import math
from typing import Any

# The label of the clock rate: compare puts the rate its cycles figures rest on there.
CLOCK = "clock (GHz)"


def mitigation_summary(host: dict[str, Any]) -> str | None:
    mitigations = host.get("mitigations")
    if not isinstance(mitigations, dict):
        return None
    states = mitigations.get("vulnerabilities") or {}
    vulnerable = sorted(k for k, v in states.items() if str(v).startswith("Vulnerable"))
    mitigated = sorted(k for k, v in states.items() if str(v).startswith("Mitigation"))
    text = f"boot option {mitigations.get('boot_option') or 'none'}; "
    text += f"{len(mitigated)} mitigated"
    if vulnerable:
        text += f", vulnerable: {', '.join(vulnerable)}"
    return text


def host_clock_ghz(host: dict[str, Any]) -> tuple[float, str]:
    """The run's clock rate from host.json alone, and where it came from: measured at
    the start of the run, else the kernel's reported MHz."""
    measured = (host.get("clock") or {}).get("ghz")
    if isinstance(measured, int | float) and math.isfinite(measured) and measured > 0:
        return float(measured), "measured clock"
    reported = host.get("cpu_mhz_reported")
    if isinstance(reported, int | float) and math.isfinite(reported) and reported > 0:
        return reported / 1000, "reported MHz"
    return math.nan, "unavailable"


def clock_text(ghz: float, source: str) -> str | None:
    return f"{ghz:.2f} ({source})" if math.isfinite(ghz) else None


def _yes_no(value: object) -> str | None:
    return {True: "yes", False: "no"}.get(value) if isinstance(value, bool) else None


def _get(host: dict[str, Any], key: str) -> dict[str, Any]:
    value = host.get(key)
    return value if isinstance(value, dict) else {}


def machine_facts(host: dict[str, Any]) -> dict[str, object]:
    """Each fact of the machine under its one label (None where host.json lacks it)."""
    virt, versions = _get(host, "virtualisation"), _get(host, "versions")
    stack = _get(host, "ulimit_s").get("soft_bytes")
    cycles = _get(host, "counters").get("cycles")
    usable = host.get("usable_cpus")
    return {
        "CPU": host.get("cpu_model"),
        "logical CPUs (usable)": f"{host.get('logical_cpus')} "
        f"({len(usable) if isinstance(usable, list) else None})",
        "physical cores": host.get("physical_cores"),
        "caches (CPU 0)": host.get("caches"),
        "SMT active": _get(host, "smt").get("active"),
        CLOCK: clock_text(*host_clock_ghz(host)),
        "kernel": host.get("kernel"),
        "OS": host.get("os"),
        "hypervisor": virt.get("vm") or ("yes" if virt.get("hypervisor_flag") else "none seen"),
        "container": virt.get("container") or "none seen",
        "CPU frequency governor": host.get("cpufreq_governor") or "not exposed",
        "mitigations": mitigation_summary(host),
        "perf_event_paranoid": host.get("perf_event_paranoid"),
        "hardware counters (cycles)": _yes_no(cycles.get("available"))
        if isinstance(cycles, dict)
        else None,
        "ulimit -s": f"{stack // 1024} KiB" if isinstance(stack, int) else stack,
        "Go": versions.get("go"),
        "gcc": versions.get("gcc"),
        "Python / pyperf": f"{versions.get('python')} / {versions.get('pyperf')}",
        "switchbench": versions.get("switchbench"),
    }
