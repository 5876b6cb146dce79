"""`python -m bench.measure.worker --case ID [pyperf options]` → one case's pyperf values.

One case under pyperf: `python -m bench.measure.worker --case ID [pyperf options]`.

The orchestrator runs this module as a subprocess per case, as
pyperformance does, and never builds a pyperf Runner itself (a Runner
re-parses sys.argv in its worker processes). pyperf then spawns worker
processes of this same module; each calibrates or takes samples through
`time_ops`, pyperf's bench_time_func contract: run `loops` ops,
return the elapsed seconds of the timed region only.

pyperf keeps only times. The OS context-switch counts of each sample
travel in the run's metadata through a pyperf hook, in the order of the
run's values (bench.analysis.tidy reads them back).
The mood canary (bench.native.canary), timed just before and just after
each value outside its timed region, travels the same way, and so does each value's
CPU share (the process's CPU time over the run's wall time).
"""

from __future__ import annotations

import atexit
import json
import os
import random
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pyperf

from bench.catalogue.cases import get_case
from bench.catalogue.placement import pin_cpus, usable_cpus
from bench.native.bridge import COUNTER_NAMES, TimedRun, runner_for
from bench.native.build import Artifacts
from bench.native.canary import CHOSEN, SHAPES, canary_for

COUNTERS_HOOK = "switchbench_counters"
COUNTERS_METADATA = "switchbench_counters"
# One extra run of the values' loop count with perf counters on, after them.
COUNTED_METADATA = "switchbench_counted"
# The order of the fields in each metadata record.
COUNTER_FIELDS = ("ops", "elapsed_ns", "voluntary_ctx", "involuntary_ctx", *COUNTER_NAMES)
# Runs of several loop counts (the values' loops divided by each of these), timed like
# the values, right after them and in a shuffled order, so that drift of the machine
# does not line up with the loop count: they give the regression of elapsed time on
# loop count, whose slope is the cost of one op without the fixed cost of a run.
SIZED_METADATA = "switchbench_sized"
SIZED_DIVISORS = (8, 4, 2, 1)
# Why a counter was unavailable, for the values' runs (JSON: name -> reason).
COUNTER_ERRORS_METADATA = "switchbench_counter_errors"

# Every timed run of this worker process, in order.
_timed_runs: list[TimedRun] = []
# The mood canary (bench.native.canary) just before and just after each of them, in ns
# per load; None where it could not run. In the run's metadata as [[before, after], ...].
CANARY_METADATA = "switchbench_canary"
_canaries: list[tuple[float | None, float | None]] = []
# Each timed run's CPU share (TimedRun.cpu_share: the process's CPU time over the wall
# time of the run), in the values' order; null where it was not measured.
CPU_SHARE_METADATA = "switchbench_cpu_share"

# Each native run has its own deadline: RUN_DEADLINE_FACTOR times what its loop
# count should take at the slowest rate this worker has seen, and never less than
# the floor (SWITCHBENCH_RUN_DEADLINE_S, default RUN_DEADLINE_FLOOR_S). A case
# that stalls after calibration is caught in seconds, not at the case deadline.
RUN_DEADLINE_FACTOR = 50
RUN_DEADLINE_FLOOR_S = 10.0


def run_deadline_s(loops: int, earlier: list[TimedRun]) -> float:
    floor = float(os.environ.get("SWITCHBENCH_RUN_DEADLINE_S") or RUN_DEADLINE_FLOOR_S)
    if not earlier:
        return floor  # nothing to predict from yet: pyperf's first calibration run
    ns_per_op = max(r.elapsed_ns / r.ops for r in earlier)
    return max(floor, RUN_DEADLINE_FACTOR * loops * ns_per_op / 1e9)


def _expire(loops: int, deadline_s: float) -> None:
    """The watchdog's end: say why, then kill the case's whole process group (this
    worker, pyperf's master, a Go driver, forked children), which the orchestrator
    started in a session of its own."""
    sys.stderr.write(
        f"NativeError: a native run of {loops} ops ran past its deadline of "
        f"{deadline_s:.1f} s (set from the calibrated loop count); killed as hung\n"
    )
    sys.stderr.flush()
    if os.getpgid(0) == os.getsid(0):
        os.killpg(0, signal.SIGKILL)
    os._exit(3)


def _watched(run: Any, loops: int) -> TimedRun:
    """run(loops) under its deadline. cffi and the Go driver's pipe release the GIL,
    so the watchdog thread fires even while the native code is stuck."""
    deadline = run_deadline_s(loops, _timed_runs)
    watchdog = threading.Timer(deadline, _expire, (loops, deadline))
    watchdog.daemon = True
    watchdog.start()
    try:
        return run(loops)
    finally:
        watchdog.cancel()


def _record(run: TimedRun) -> list[int | None]:
    return [run.ops, run.elapsed_ns, run.voluntary_ctx, run.involuntary_ctx, *run.counters]


# The benchmark body of this worker process, started on first use.
_body = None
# Values each worker takes (--values): the phase with this many runs is the values phase.
_values_per_worker = 0


class _CountersHook:
    """Records the timed runs made while pyperf measures one phase.

    pyperf makes one hook per phase (warm-ups, then values) and calls
    teardown with the run's metadata at the end of each; the values phase
    comes last, so its records are the ones left in the metadata. After the
    values phase the hook also makes one counted run (perf counters on) of the
    same loop count: it is not a pyperf value, since counting slows switches.
    """

    def __init__(self) -> None:
        self.first = len(_timed_runs)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        pass

    def teardown(self, metadata: dict[str, Any]) -> None:
        runs = _timed_runs[self.first :]
        metadata[COUNTERS_METADATA] = json.dumps([_record(r) for r in runs], separators=(",", ":"))
        metadata[CANARY_METADATA] = json.dumps(_canaries[self.first :], separators=(",", ":"))
        shares = [r.cpu_share for r in runs]
        metadata[CPU_SHARE_METADATA] = json.dumps(shares, separators=(",", ":"))
        # Only after the values phase: warm-up and calibration phases need no counting.
        if len(runs) != _values_per_worker or _body is None:
            return
        body = _body
        counted = _watched(lambda loops: body(loops, count_perf=True), runs[-1].ops)
        counted.check()
        metadata[COUNTED_METADATA] = json.dumps(_record(counted), separators=(",", ":"))
        sized = []
        for divisor in random.Random(os.getpid()).sample(SIZED_DIVISORS, len(SIZED_DIVISORS)):
            run = _watched(body, max(1, runs[-1].ops // divisor))
            run.check()
            sized.append(_record(run))
        metadata[SIZED_METADATA] = json.dumps(sized, separators=(",", ":"))
        reasons = {
            name: err
            for name, err in zip(COUNTER_NAMES, counted.counter_errors, strict=True)
            if err
        }
        metadata[COUNTER_ERRORS_METADATA] = json.dumps(reasons, sort_keys=True)


class _CountersHookEntry:
    """What pyperf expects of a hook: a name and a load() returning the hook class."""

    name = COUNTERS_HOOK

    def load(self) -> type[_CountersHook]:
        return _CountersHook


def _shape_text() -> str:
    shape = SHAPES[CHOSEN]
    return (
        f"{shape.name}: {shape.bytes} bytes, {shape.loads} loads"
        f" timed in {shape.laps} stretches, median ({shape.why})"
    )


def _add_worker_args(cmd: list[str], args: Any) -> None:
    cmd.extend(["--case", args.case, "--c-library", args.c_library, "--go-driver", args.go_driver])


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if COUNTERS_HOOK not in argv:
        argv += ["--hook", COUNTERS_HOOK]
    runner = pyperf.Runner(
        program_args=("-m", "bench.measure.worker"),
        add_cmdline_args=_add_worker_args,
        hooks=[_CountersHookEntry()],
    )
    runner.argparser.add_argument("--case", required=True, help="case id")
    default = Artifacts.locate()
    runner.argparser.add_argument("--c-library", default=str(default.c_library))
    runner.argparser.add_argument("--go-driver", default=str(default.go_driver))
    args = runner.parse_args(argv)

    global _values_per_worker
    _values_per_worker = args.values
    case = get_case(args.case)
    artifacts = Artifacts(Path(args.c_library), default.c_check, Path(args.go_driver))
    metadata: dict[str, Any] = {
        "switchbench_case": case.id,
        "switchbench_description": case.description,
        "switchbench_switches_per_op": case.switches_per_op,
    }
    if case.lang == "c":
        cpus = (
            usable_cpus() if case.placement == "spread" else pin_cpus(case.placement, usable_cpus())
        )
        metadata["switchbench_cpus"] = ",".join(map(str, cpus))
    if case.gomaxprocs is not None:
        metadata["switchbench_gomaxprocs"] = case.gomaxprocs

    metadata["switchbench_canary_shape"] = _shape_text()
    canary_of_body: list[Any] = []

    def _canary() -> Any:
        # Made once per process, with the body (its buffer prepared outside any value).
        if not canary_of_body and _body is not None:
            canary_of_body.append(canary_for(_body))
        return canary_of_body[0]

    def time_ops(loops: int) -> float:
        global _body
        if _body is None:
            # Started on first use, so only pyperf's workers start native code.
            _body = runner_for(case, artifacts)
            atexit.register(_body.close)
        canary = _canary()
        before = canary()
        run = _watched(_body, loops)
        after = canary()
        run.check()
        _timed_runs.append(run)
        _canaries.append((before, after))
        return run.elapsed_ns / 1e9

    # inner_loops: pyperf divides each sample by loops * inner_loops, so
    # suite.json holds seconds per switch (or per spawn, per call: the case's unit).
    runner.bench_time_func(case.id, time_ops, inner_loops=case.switches_per_op, metadata=metadata)


if __name__ == "__main__":
    main()
