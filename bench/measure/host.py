"""This machine → host.json: what a reader needs to compare two runs, probed once per run.

Probe the machine once per run: what a reader needs to compare two runs."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.results.schema import SCHEMA_VERSION


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _command_line(argv: list[str]) -> str | None:
    """First line a tool prints about its version, or None if it is absent."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else None


def _cpu_model() -> str | None:
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or None


def _cpu_flags() -> set[str]:
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def _virtualisation() -> dict[str, Any]:
    """What the machine runs inside: hypervisor (VM) and container, as far as can be told."""
    vm = _command_line(["systemd-detect-virt", "--vm"])
    container = _command_line(["systemd-detect-virt", "--container"])
    return {
        "hypervisor_flag": "hypervisor" in _cpu_flags(),
        "vm": vm if vm and vm != "none" else None,
        "container": container if container and container != "none" else None,
        "dmi_product": _read("/sys/class/dmi/id/product_name"),
        "sys_vendor": _read("/sys/class/dmi/id/sys_vendor"),
    }


def _os_name() -> str | None:
    for line in (_read("/etc/os-release") or "").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return None


def _limit(value: int) -> int | str:
    return "unlimited" if value == resource.RLIM_INFINITY else value


def _physical_cores() -> int | None:
    cores = set()
    for topo in Path("/sys/devices/system/cpu").glob("cpu[0-9]*/topology"):
        pkg, core = _read(str(topo / "physical_package_id")), _read(str(topo / "core_id"))
        if pkg is None or core is None:
            return None
        cores.add((pkg, core))
    return len(cores) or None


def _smt() -> dict[str, Any]:
    """Whether SMT (hyper-threading) is on: two hardware threads of a core share
    its caches and execution units, which changes what a cross-CPU switch costs."""
    active = _read("/sys/devices/system/cpu/smt/active")
    return {
        "active": None if active is None else active == "1",
        "control": _read("/sys/devices/system/cpu/smt/control"),
    }


def _mitigations() -> dict[str, Any]:
    """The kernel's CPU-vulnerability mitigations: they tax every kernel entry and
    exit, so every thread switch, and differ between otherwise equal machines."""
    folder = Path("/sys/devices/system/cpu/vulnerabilities")
    states = {p.name: _read(str(p)) for p in sorted(folder.iterdir())} if folder.is_dir() else {}
    cmdline = (_read("/proc/cmdline") or "").split()
    return {
        "boot_option": next(
            (w.split("=", 1)[1] for w in cmdline if w.startswith("mitigations=")), None
        ),
        "vulnerabilities": states,
    }


def _caches() -> str | None:
    """CPU 0's caches as the kernel lists them, e.g. "L1d 32K, L1i 32K, L2 1024K, L3
    32768K": the working-set sweep's steps fall where these end."""
    kinds = {"Data": "d", "Instruction": "i", "Unified": ""}
    found = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index[0-9]*")):
        level, kind, size = (_read(str(index / f)) for f in ("level", "type", "size"))
        if level and kind and size:
            found.append(f"L{level}{kinds.get(kind, kind)} {size}")
    return ", ".join(found) or None


def _nominal_mhz() -> float | None:
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("cpu MHz"):
            try:
                return float(line.split(":", 1)[1])
            except ValueError:
                return None
    return None


def probe() -> dict[str, Any]:
    stack_soft, stack_hard = resource.getrlimit(resource.RLIMIT_STACK)
    paranoid = _read("/proc/sys/kernel/perf_event_paranoid")
    return {
        "schema_version": SCHEMA_VERSION,
        "hostname": socket.gethostname(),
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": sorted(os.sched_getaffinity(0)),
        "physical_cores": _physical_cores(),
        "kernel": platform.release(),
        "os": _os_name(),
        "machine": platform.machine(),
        "virtualisation": _virtualisation(),
        "smt": _smt(),
        "caches": _caches(),
        "mitigations": _mitigations(),
        "cpu_mhz_reported": _nominal_mhz(),
        "cpufreq_governor": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        "perf_event_paranoid": int(paranoid)
        if paranoid and paranoid.lstrip("-").isdigit()
        else None,
        "ulimit_s": {
            "soft_bytes": _limit(stack_soft),
            "hard_bytes": _limit(stack_hard),
        },
        "versions": {
            "go": _command_line(["go", "version"]),
            "gcc": _command_line([os.environ.get("CC", "gcc"), "--version"]),
            "python": sys.version.split()[0],
            "pyperf": version("pyperf"),
            "pandas": version("pandas"),
            "scipy": version("scipy"),
            "switchbench": version("switchbench"),
        },
    }
