"""Run each case under pyperf, in its own subprocess (bench.worker).

Each case's pyperf JSON lands in the run folder's raw/ as it finishes, so
a case that fails or hangs costs only itself; at the end the finished
cases are merged into suite.json, pyperf's own suite format.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyperf

from bench.build import Artifacts
from bench.cases import Case, skip_reason, usable_cpus
from bench.memory import MemoryPlan

# Environment variables the native code reads (see README, "When things go wrong").
PASSED_ENVIRONMENT = ("SWITCHBENCH_NO_PERF", "SWITCHBENCH_TEST_CASES", "SWITCHBENCH_RUN_DEADLINE_S")


@dataclass(frozen=True)
class Sampling:
    """How hard pyperf samples one case."""

    processes: int  # worker processes taking values (pyperf adds one to calibrate)
    values: int  # values per worker process
    warmups: int  # warm-up values per worker, thrown away
    min_time: float  # seconds one value must take at least (pyperf calibrates loops to it)

    @property
    def worker_processes(self) -> int:
        return self.processes + 1

    def deadline_s(self) -> float:
        """A generous wall-clock limit for one case, after which it is killed as hung.

        SWITCHBENCH_DEADLINE_S overrides it (the tests use a short one)."""
        override = os.environ.get("SWITCHBENCH_DEADLINE_S")
        if override:
            return float(override)
        values = self.worker_processes * (self.values + self.warmups + 12)
        return 60.0 + 20.0 * values * self.min_time


@dataclass(frozen=True)
class Profile:
    """Which cases a run covers by default, and how hard it samples them."""

    name: str
    cases: Sampling
    sweeps: Sampling | None  # None: the scaling sweeps are left out unless --only names them
    memory: MemoryPlan  # sizes of the memory measurements
    leak_k: int  # how many times each goroutine-leak scenario runs
    summary: str

    def sampling(self, case: Case) -> Sampling:
        return self.sweeps if case.sweep and self.sweeps else self.cases

    def includes(self, case: Case) -> bool:
        return not case.sweep or self.sweeps is not None


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "smoke",
            Sampling(processes=1, values=3, warmups=1, min_time=0.01),
            None,
            MemoryPlan(goroutines=(1000,), threads=(100,), limits=("8MiB",)),
            40,
            "every case but the sweeps, 1 process x 3 values of 10 ms: checks that all runs",
        ),
        Profile(
            "quick",
            Sampling(processes=1, values=3, warmups=1, min_time=0.03),
            None,
            MemoryPlan(
                (1000, 10_000, 100_000),
                (100, 1000),
                ("8MiB", "1MiB", "256KiB", "unlimited"),
                growth=(8 << 10, 64 << 10, 512 << 10, 4 << 20),
            ),
            200,
            "every case but the sweeps, 1 process x 3 values of 30 ms: a first look in a minute",
        ),
        Profile(
            "default",
            Sampling(processes=5, values=4, warmups=1, min_time=0.05),
            Sampling(processes=2, values=3, warmups=1, min_time=0.05),
            MemoryPlan(
                (1000, 10_000, 100_000, 1_000_000),
                (100, 1000, 10_000),
                ("8MiB", "1MiB", "256KiB", "unlimited"),
                growth=(8 << 10, 64 << 10, 512 << 10, 4 << 20, 64 << 20),
                ceiling=True,
            ),
            1000,
            "every case and the sweeps, 5 processes x 4 values of 50 ms (sweep points 2 x 3)",
        ),
    )
}


@dataclass(frozen=True)
class CaseOutcome:
    case: Case
    status: str  # "ok", "skipped" or "failed"
    reason: str = ""
    raw_json: Path | None = None
    wall_s: float = 0.0
    start_s: float = 0.0  # when it started and ended, from the start of the run
    end_s: float = 0.0


def _failure_reason(text: str) -> str:
    """The line of a failed case's output that says most about why."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for marker in ("panic: ", "NativeError: ", "Error: ", "ERROR: "):
        found = [line for line in lines if marker in line]
        if found:
            return found[-1][found[-1].index(marker) :]
    return lines[-1] if lines else "no output"


def run_case(
    case: Case,
    profile: Profile,
    artifacts: Artifacts,
    raw_dir: Path,
    on_worker_done: Callable[[], None] = lambda: None,
    on_start: Callable[[int], None] = lambda pid: None,
) -> CaseOutcome:
    """Measure one case; never raises for a failure of the case itself."""
    reason = skip_reason(case, usable_cpus())
    if reason:
        return CaseOutcome(case, "skipped", reason)
    sampling = profile.sampling(case)

    out = raw_dir / f"{case.id}.json"
    tmp = raw_dir / f"{case.id}.partial.json"
    tmp.unlink(missing_ok=True)
    cmd = [
        sys.executable, "-m", "bench.worker",
        "--case", case.id,
        "--c-library", str(artifacts.c_library),
        "--go-driver", str(artifacts.go_driver),
        "--processes", str(sampling.processes),
        "--values", str(sampling.values),
        "--warmups", str(sampling.warmups),
        "--min-time", str(sampling.min_time),
        "--output", str(tmp),
    ]  # fmt: skip
    # pyperf gives its workers a clean environment; pass on what the suite reads.
    # (One comma-separated option: pyperf keeps only the last --inherit-environ.)
    passed = [name for name in PASSED_ENVIRONMENT if os.environ.get(name)]
    if passed:
        cmd += ["--inherit-environ", ",".join(passed)]
    start = time.monotonic()
    deadline = start + sampling.deadline_s()
    # Its own session, so a hung case is killed with every process it started.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    assert proc.stdout is not None
    on_start(proc.pid)
    output = bytearray()
    timed_out = False
    counting_dots = True
    try:
        fd = proc.stdout.fileno()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                break
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            output += chunk
            if counting_dots:
                # pyperf prints one dot per finished worker process, then a newline.
                dots, newline, _ = chunk.partition(b"\n")
                for _ in range(dots.count(b".")):
                    on_worker_done()
                counting_dots = not newline
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    finally:
        proc.stdout.close()
        returncode = proc.wait()
        # Whatever the case left behind (a forked child, a Go driver) goes with it.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
    wall = time.monotonic() - start
    text = output.decode(errors="replace")

    if timed_out:
        tmp.unlink(missing_ok=True)
        return CaseOutcome(
            case,
            "failed",
            f"killed after {sampling.deadline_s():.0f} s without finishing",
            wall_s=wall,
        )
    if returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        return CaseOutcome(
            case,
            "failed",
            f"worker exited with status {returncode}: {_failure_reason(text)}",
            wall_s=wall,
        )
    tmp.replace(out)
    return CaseOutcome(case, "ok", raw_json=out, wall_s=wall)


def write_suite(outcomes: list[CaseOutcome], path: Path) -> None:
    """Merge the finished cases into one pyperf BenchmarkSuite file."""
    benchmarks = [pyperf.Benchmark.load(str(o.raw_json)) for o in outcomes if o.raw_json]
    if not benchmarks:
        return
    tmp = path.with_name(path.name + ".tmp")
    pyperf.BenchmarkSuite(benchmarks).dump(str(tmp), replace=True)
    tmp.replace(path)
