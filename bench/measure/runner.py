"""A case and a profile → its pyperf JSON in raw/, sampled in batches of worker processes.

Run each case under pyperf, in its own subprocess (bench.measure.worker).

Each case's pyperf JSON lands in the run folder's raw/ as it finishes, so
a case that fails or hangs costs only itself; at the end the finished
cases are merged into suite.json, pyperf's own suite format.
"""

from __future__ import annotations

import json
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyperf

from bench.analysis.mood import canary_pairs, share_values, stop_half_width
from bench.analysis.stats import MIN_PROCESSES_FOR_CI, median_ci
from bench.catalogue.cases import Case
from bench.catalogue.placement import usable_cpus
from bench.catalogue.profiles import Profile, Sampling
from bench.measure.worker import CANARY_METADATA, CPU_SHARE_METADATA
from bench.native.bridge import case_skip_reason
from bench.native.build import Artifacts
from bench.results.write import atomic_write_via

# Environment variables the native code reads (see README, "When things go wrong").
PASSED_ENVIRONMENT = (
    "SWITCHBENCH_NO_PERF",
    "SWITCHBENCH_TEST_CASES",
    "SWITCHBENCH_RUN_DEADLINE_S",
    "SWITCHBENCH_BOOST_CONTEXT",
)


@dataclass(frozen=True)
class CaseOutcome:
    case: Case
    status: str  # "ok", "skipped" or "failed"
    reason: str = ""
    raw_json: Path | None = None
    wall_s: float = 0.0
    start_s: float = 0.0  # when it started and ended, from the start of the run
    end_s: float = 0.0
    stop: str = ""  # why sampling stopped: "target", "budget", "one batch", "passes", ...
    ci_half_width: float = math.nan  # relative, of the median, when sampling stopped
    batches: int = 0  # pyperf invocations that added values
    passes: int = 0  # with --repeat: the passes this case has finished


def _failure_reason(text: str) -> str:
    """The line of a failed case's output that says most about why."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for marker in ("panic: ", "NativeError: ", "Error: ", "ERROR: "):
        found = [line for line in lines if marker in line]
        if found:
            return found[-1][found[-1].index(marker) :]
    return lines[-1] if lines else "no output"


def _run_batch(
    case: Case,
    sampling: Sampling,
    artifacts: Artifacts,
    out_json: Path,
    processes: int,
    loops: int | None,
    on_start: Callable[[int], None],
) -> str | None:
    """One pyperf invocation: `processes` worker processes, their values written to
    out_json (appended, when it exists). None on success, else why it failed."""
    cmd = [
        sys.executable, "-m", "bench.measure.worker",
        "--case", case.id,
        "--c-library", str(artifacts.c_library),
        "--go-driver", str(artifacts.go_driver),
        "--processes", str(processes),
        "--values", str(sampling.values),
        "--warmups", str(sampling.warmups),
        "--min-time", str(sampling.min_time),
    ]  # fmt: skip
    # A later batch appends to the first and keeps its loop count: no recalibration,
    # so every value of a case times the same loop.
    cmd += ["--append", str(out_json)] if out_json.exists() else ["--output", str(out_json)]
    if loops is not None:
        cmd += ["--loops", str(loops)]
    # pyperf gives its workers a clean environment; pass on what the suite reads.
    # (One comma-separated option: pyperf keeps only the last --inherit-environ.)
    passed = [name for name in PASSED_ENVIRONMENT if os.environ.get(name)]
    if passed:
        cmd += ["--inherit-environ", ",".join(passed)]
    deadline_s = sampling.deadline_s()
    deadline = time.monotonic() + deadline_s
    # Its own session, so a hung case is killed with every process it started.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    assert proc.stdout is not None
    on_start(proc.pid)
    output = bytearray()
    timed_out = False
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
    if timed_out:
        return f"killed after {deadline_s:.0f} s without finishing"
    if returncode != 0 or not out_json.is_file():
        text = output.decode(errors="replace")
        return f"worker exited with status {returncode}: {_failure_reason(text)}"
    return None


@dataclass(frozen=True)
class Precision:
    """How well a case's pyperf file pins its median down so far."""

    half_width: float  # the CI's half-width over the median
    loops: int  # the loop count every value times
    processes: int  # worker processes that took values (calibration runs not counted)
    # The mood-adjusted CI's half-width where the adjustment is trusted (bench.analysis.
    # mood.stop_half_width), else NaN.
    adjusted_half_width: float = math.nan

    @property
    def reaches(self) -> float:
        """The half-width a CI target may be judged by: NaN (never within a target)
        while fewer than MIN_PROCESSES_FOR_CI processes took values, since until then
        the CI cannot see how processes differ (bench.analysis.summary says why). Where
        the mood adjustment is trusted its CI counts too (the narrower of the two):
        the trust rule itself asks for MIN_PROCESSES_FOR_CI processes."""
        if self.processes < MIN_PROCESSES_FOR_CI:
            return math.nan
        known = [h for h in (self.half_width, self.adjusted_half_width) if not math.isnan(h)]
        return min(known) if known else math.nan

    def stop_word(self, target: float) -> str:
        """Why a case that reached `target` stopped: 'target', or 'target (mood-adjusted)'
        when only the adjusted CI is within it (the raw one alone would have sampled on)."""
        return "target" if self.half_width <= target else "target (mood-adjusted)"


def measured(raw_json: Path) -> Precision:
    """The CI half-width, loops and worker processes of a case's pyperf file."""
    bench = pyperf.Benchmark.load(str(raw_json))
    # Grouped by worker process, as bench.analysis.summary computes the CI the summary shows; a
    # run without values is pyperf's calibration run (warm-ups only), as bench.analysis.tidy
    # skips it when it numbers the processes of samples.csv.
    with_values = [run for run in bench.get_runs() if run.values]
    runs = [run.values for run in with_values]
    values = np.concatenate([np.asarray(v) for v in runs]) * 1e9
    processes = np.repeat(np.arange(len(runs)), [len(v) for v in runs])
    median, low, high = median_ci(values, processes)
    loops = int(bench.get_runs()[-1].get_metadata()["loops"])
    half = (high - low) / 2 / median if median > 0 else math.nan
    pairs, shares = [], []
    for run in with_values:
        pairs += canary_pairs(_record(run, CANARY_METADATA), len(run.values))
        shares += share_values(_record(run, CPU_SHARE_METADATA), len(run.values))
    adjusted = stop_half_width(values, pairs, processes, shares)
    return Precision(half, loops, len(runs), adjusted)


def _record(run: pyperf.Run, key: str) -> object:
    raw = run.get_metadata().get(key)
    try:
        return json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def precision(raw_json: Path) -> tuple[float, int]:
    """(CI half-width over the median, loops) of the values in a case's pyperf file."""
    found = measured(raw_json)
    return found.half_width, found.loops


def run_case(
    case: Case,
    profile: Profile,
    artifacts: Artifacts,
    raw_dir: Path,
    on_start: Callable[[int], None] = lambda pid: None,
    adaptive: bool = True,
    after_batch: Callable[[], None] = lambda: None,
) -> CaseOutcome:
    """Measure one case into raw/<case>.json; never raises for a failure of the case.

    If the file exists (a later pass of --repeat), one more batch is appended to it.
    With `adaptive`, batches are added until the CI target or the budget is reached.
    after_batch runs after every batch that succeeded (bench.measure.overhead measures a
    case's minimal twin there); its time counts neither to the case's wall time
    nor to its budget."""
    reason = case_skip_reason(case, usable_cpus())
    if reason:
        return CaseOutcome(case, "skipped", reason)
    sampling = profile.sampling(case)
    out = raw_dir / f"{case.id}.json"
    tmp = raw_dir / f"{case.id}.partial.json"
    tmp.unlink(missing_ok=True)
    loops = None
    if out.is_file():  # a later pass: work on a copy, so a failure loses nothing
        shutil.copyfile(out, tmp)
        loops = precision(out)[1]
    clock = _CaseClock(after_batch)
    failed = _run_batch(case, sampling, artifacts, tmp, sampling.processes, loops, on_start)
    if failed:
        tmp.unlink(missing_ok=True)
        if out.is_file():  # earlier passes stand; this one is lost, and says so
            return CaseOutcome(case, "ok", raw_json=out, stop=f"a later pass failed: {failed}")
        return CaseOutcome(case, "failed", failed, wall_s=clock.spent())
    clock.between_batches()
    now = measured(tmp)
    batches, stop = 1, "one batch"
    # now.reaches is NaN below MIN_PROCESSES_FOR_CI processes: a CI from fewer processes
    # never meets the target, however narrow, so an adaptive case samples on and a
    # one-batch case stops on "one batch".
    if adaptive and sampling.budget_s > 0:
        batches, stop, now = _sample_on(case, sampling, artifacts, tmp, now, clock, on_start)
    elif now.reaches <= sampling.target_ci:
        stop = now.stop_word(sampling.target_ci)
    tmp.replace(out)
    return CaseOutcome(
        case,
        "ok",
        raw_json=out,
        wall_s=clock.spent(),
        stop=stop,
        ci_half_width=now.half_width,
        batches=batches,
    )


class _CaseClock:
    """A case's wall time, less what after_batch took (that is not the case's)."""

    def __init__(self, after_batch: Callable[[], None]) -> None:
        self.start = time.monotonic()
        self.aside = 0.0
        self.after_batch = after_batch

    def between_batches(self) -> None:
        began = time.monotonic()
        self.after_batch()
        self.aside += time.monotonic() - began

    def spent(self) -> float:
        return time.monotonic() - self.start - self.aside


def _sample_on(
    case: Case,
    sampling: Sampling,
    artifacts: Artifacts,
    tmp: Path,
    now: Precision,
    clock: _CaseClock,
    on_start: Callable[[int], None],
) -> tuple[int, str, Precision]:
    """Batches after the first until the CI target is met or the next batch would run
    past the case's budget: (batches in all, why it stopped, the precision reached)."""
    batches = 1
    while True:
        spent = clock.spent()
        if now.reaches <= sampling.target_ci:
            return batches, now.stop_word(sampling.target_ci), now
        # Another batch costs about what the last one did; stop before the budget.
        per_batch = spent / batches * sampling.more_processes / sampling.processes
        if spent + per_batch > sampling.budget_s:
            return batches, "budget", now
        failed = _run_batch(
            case, sampling, artifacts, tmp, sampling.more_processes, now.loops, on_start
        )
        if failed:
            return batches, f"batch {batches + 1} failed: {failed}", now
        batches += 1
        clock.between_batches()
        now = measured(tmp)


def write_suite(outcomes: list[CaseOutcome], path: Path) -> None:
    """Merge the finished cases into one pyperf BenchmarkSuite file."""
    benchmarks = [pyperf.Benchmark.load(str(o.raw_json)) for o in outcomes if o.raw_json]
    if not benchmarks:
        return
    suite = pyperf.BenchmarkSuite(benchmarks)

    def dump(fd: int, tmp: str) -> None:
        # pyperf writes by name: a fresh mkstemp name of ours, never one planted in the folder.
        os.close(fd)
        suite.dump(tmp, replace=True)

    atomic_write_via(path, dump)
