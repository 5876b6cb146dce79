"""The bridge to the native benchmark code, used inside pyperf workers.

C is called in-process through cffi (ABI mode on the built shared
library). Go runs in a driver process that stays up for the whole worker
and answers one JSON line per timed run. Both return a `TimedRun`, so the
rest of the suite cannot tell them apart.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bench.build import Artifacts, source_root
from bench.cases import Case, pin_cpus, usable_cpus


class NativeError(RuntimeError):
    """A benchmark body failed or reported a broken hand-off."""


@dataclass(frozen=True)
class TimedRun:
    """One timed run of a ping-pong: the loop's wall time and OS switch counts."""

    round_trips: int
    elapsed_ns: int
    handoffs_a: int
    handoffs_b: int
    order_errors: int
    voluntary_ctx: int
    involuntary_ctx: int

    def check(self) -> None:
        if (
            self.handoffs_a != self.round_trips
            or self.handoffs_b != self.round_trips
            or self.order_errors
        ):
            raise NativeError(
                f"broken hand-off: sides did {self.handoffs_a} and {self.handoffs_b} "
                f"hand-offs for {self.round_trips} round trips, {self.order_errors} out of turn"
            )
        if self.elapsed_ns <= 0:
            raise NativeError(f"the timed loop reported {self.elapsed_ns} ns")


def _cdef_source() -> str:
    """switchbench.h without preprocessor lines: cffi's cdef takes plain declarations."""
    header = source_root() / "c" / "switchbench.h"
    return "\n".join(
        line for line in header.read_text().splitlines() if not line.lstrip().startswith("#")
    )


@cache
def _c_library(path: Path) -> tuple[object, object]:
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(_cdef_source())
    return ffi, ffi.dlopen(str(path))


class CPingPong:
    """A C ping-pong, pinned as its case's placement says."""

    def __init__(self, case: Case, library: Path) -> None:
        self.ffi, self.lib = _c_library(library)
        self.function = getattr(self.lib, f"sb_{case.primitive}_pingpong")
        self.cpu_a, self.cpu_b = pin_cpus(case.placement, usable_cpus())

    def __call__(self, round_trips: int) -> TimedRun:
        out = self.ffi.new("struct sb_result *")
        if self.function(round_trips, self.cpu_a, self.cpu_b, out) != 0:
            raise NativeError(self.ffi.string(out.message).decode(errors="replace"))
        return TimedRun(
            round_trips=round_trips,
            elapsed_ns=out.elapsed_ns,
            handoffs_a=out.handoffs_a,
            handoffs_b=out.handoffs_b,
            order_errors=out.order_errors,
            voluntary_ctx=out.voluntary_ctx,
            involuntary_ctx=out.involuntary_ctx,
        )

    def close(self) -> None:
        pass


class GoPingPong:
    """A Go body, run by a long-lived switchdriver process (one per pyperf worker)."""

    def __init__(self, case: Case, driver: Path) -> None:
        argv = [str(driver), "-body", case.primitive, "-gomaxprocs", str(case.gomaxprocs), "-serve"]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def __call__(self, round_trips: int) -> TimedRun:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{round_trips}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise NativeError(f"the Go driver exited with status {self.proc.wait()}")
        sample = json.loads(line)
        if sample.get("error"):
            raise NativeError(f"Go driver: {sample['error']}")
        return TimedRun(
            round_trips=sample["round_trips"],
            elapsed_ns=sample["elapsed_ns"],
            handoffs_a=sample["handoffs_a"],
            handoffs_b=sample["handoffs_b"],
            order_errors=sample["order_errors"],
            voluntary_ctx=sample["voluntary_ctx"],
            involuntary_ctx=sample["involuntary_ctx"],
        )

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def runner_for(case: Case, artifacts: Artifacts) -> Callable[[int], TimedRun]:
    """A callable running `round_trips` round trips of the case, checked."""
    if case.lang == "c":
        return CPingPong(case, artifacts.c_library)
    if case.lang == "go":
        return GoPingPong(case, artifacts.go_driver)
    raise ValueError(f"case {case.id} has unknown language {case.lang!r}")
