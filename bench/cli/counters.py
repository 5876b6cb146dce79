"""`switchbench counters`: this machine → which perf counters it offers, and why not."""

from __future__ import annotations

import argparse

from bench.measure import host
from bench.native.bridge import HARDWARE_COUNTERS, probe_counters
from bench.native.build import build

NAME = "counters"
HELP = "which perf counters this machine offers, and why not"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    artifacts = build({"c"})
    counters = probe_counters(artifacts.c_library)
    for name, state in counters.items():
        print(
            f"{name:18} {'available' if state['available'] else 'unavailable':12} {state['reason']}"
        )
    paranoid = host.probe().get("perf_event_paranoid")
    if not any(counters[name]["available"] for name in HARDWARE_COUNTERS):
        print("no hardware counters here (usual in a VM): the report shows software counters")
    if not counters["context_switches"]["available"]:
        print(
            f"perf_event_open is refused (perf_event_paranoid={paranoid}): OS context "
            "switches come from getrusage instead; run as root or lower "
            "/proc/sys/kernel/perf_event_paranoid to read the perf counters"
        )
    return 0
