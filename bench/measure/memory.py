"""Goroutines and threads parked by the thousand → memory.csv, thread_stacks.csv, stack_growth.csv.

What one goroutine and one thread cost in memory, measured, and what
`ulimit -s` decides for threads.

Each measurement runs in a fresh process, so one cannot inherit another's
memory: goroutines in the Go driver (`switchdriver -park N`), threads in
`python -m bench.measure.memory threads N` (the C library through cffi), each under
the RLIMIT_STACK being tried (set with setrlimit in the child before exec,
as `ulimit -s` would). Every size is checked against a memory budget first.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bench.catalogue.profiles import MemoryPlan
from bench.native.build import Artifacts
from bench.results.schema import GROWTH_COLUMNS, MEMORY_COLUMNS, STACK_COLUMNS

# Generous per-unit bounds for the first size of each kind; later sizes are
# checked against twice the per-unit cost measured at the size before.
GOROUTINE_BOUND = 16 * 1024
THREAD_BOUND = 256 * 1024


def _estimate(bound: int, previous: dict | None) -> float:
    if previous and previous.get("status") == "ok":
        measured = previous.get("rss_bytes_per_unit")
        if isinstance(measured, float) and measured > 0:
            return 2 * measured
    return bound


LIMITS = {
    "8MiB": 8 << 20,
    "1MiB": 1 << 20,
    "256KiB": 256 << 10,
    "unlimited": resource.RLIM_INFINITY,
}


def available_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise OSError("no MemAvailable in /proc/meminfo")


def _set_stack_limit(limit: str) -> Callable[[], None]:
    def apply() -> None:
        soft = LIMITS[limit]
        _, hard = resource.getrlimit(resource.RLIMIT_STACK)
        resource.setrlimit(resource.RLIMIT_STACK, (soft, hard))

    return apply


def _limit_allowed(limit: str) -> str | None:
    _, hard = resource.getrlimit(resource.RLIMIT_STACK)
    soft = LIMITS[limit]
    if hard != resource.RLIM_INFINITY and (soft == resource.RLIM_INFINITY or soft > hard):
        return f"the hard stack limit ({hard} bytes) does not allow ulimit -s {limit}"
    return None


def _child(argv: list[str], limit: str | None) -> dict:
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=_set_stack_limit(limit) if limit else None,
    )
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(
            done.stderr.strip().splitlines()[-1]
            if done.stderr.strip()
            else f"exit status {done.returncode}"
        )
    return json.loads(lines[-1])


def _row(kind: str, n: int, limit: str, m: dict | None, status: str, reason: str) -> dict:
    row = dict.fromkeys(MEMORY_COLUMNS, math.nan)
    row.update(kind=kind, requested=n, ulimit_s=limit, status=status, reason=reason)
    if m and m.get("created"):
        created = m["created"]
        row.update(
            created=created,
            rss_bytes_per_unit=(m["rss_after"] - m["rss_before"]) / created,
            virtual_bytes_per_unit=(m["vm_after"] - m["vm_before"]) / created,
            create_ns_per_unit=m["create_ns"] / created,
        )
        if kind == "goroutine":
            row.update(
                stack_bytes_per_unit=(m["stack_inuse_after"] - m["stack_inuse_before"]) / created,
                go_sys_bytes_per_unit=(m["sys_after"] - m["sys_before"]) / created,
            )
    return row


def measure(
    plan: MemoryPlan,
    artifacts: Artifacts,
    budget: int,
    progress: Callable[[str], None] = lambda s: None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """memory.csv rows and the thread-stack table, for every size in the plan."""
    rows, stacks = [], []
    python = [sys.executable, "-m", "bench.measure.memory", "--c-library", str(artifacts.c_library)]
    for n in plan.goroutines:
        progress(f"memory: {n} goroutines")
        previous = rows[-1] if rows else None
        if n * _estimate(GOROUTINE_BOUND, previous) > budget:
            rows.append(
                _row(
                    "goroutine",
                    n,
                    "",
                    None,
                    "skipped",
                    f"could exceed the memory budget of {budget >> 20} MiB",
                )
            )
            continue
        try:
            m = _child([str(artifacts.go_driver), "-park", str(n)], None)
            rows.append(_row("goroutine", n, "", m, "ok", ""))
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
            rows.append(_row("goroutine", n, "", None, "failed", str(e)))
    for limit in plan.limits:
        refused = _limit_allowed(limit)
        s = None
        try:
            s = None if refused else _child([*python, "stack"], limit)
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
            refused = str(e)
        stacks.append(
            {
                "ulimit_s": limit,
                "thread_stack_bytes": s["stack_bytes"] if s and not s["error"] else math.nan,
                "guard_bytes": s["guard_bytes"] if s and not s["error"] else math.nan,
                "status": "skipped" if refused else ("ok" if s and not s["error"] else "failed"),
                "reason": refused or (s or {}).get("message", ""),
            }
        )
        for i, n in enumerate(plan.threads):
            progress(f"memory: {n} threads, ulimit -s {limit}")
            previous = rows[-1] if i else None
            if refused:
                rows.append(_row("thread", n, limit, None, "skipped", refused))
                continue
            if n * _estimate(THREAD_BOUND, previous) > budget:
                rows.append(
                    _row(
                        "thread",
                        n,
                        limit,
                        None,
                        "skipped",
                        f"could exceed the memory budget of {budget >> 20} MiB",
                    )
                )
                continue
            try:
                m = _child([*python, "threads", str(n)], limit)
            except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
                rows.append(_row("thread", n, limit, None, "failed", str(e)))
                continue
            # A creation failure (EAGAIN) is the ceiling: a result, with its reason.
            row = _row("thread", n, limit, m, "ok" if not m["error"] else "ceiling", m["message"])
            row["stack_bytes_per_unit"] = stacks[-1]["thread_stack_bytes"]
            rows.append(row)
    frame = pd.DataFrame(rows, columns=MEMORY_COLUMNS)
    if plan.ceiling:
        progress("memory: ceiling search")
        frame = pd.DataFrame(
            rows + measure_ceiling(frame, artifacts, budget), columns=MEMORY_COLUMNS
        )
    return frame, pd.DataFrame(stacks, columns=STACK_COLUMNS)


def measure_growth(plan: MemoryPlan, artifacts: Artifacts, budget: int) -> pd.DataFrame:
    """One goroutine grows its stack to each size; then SetMaxStack is hit on purpose."""
    rows = []
    driver = str(artifacts.go_driver)
    runs = [(size, 0) for size in plan.growth]
    if plan.growth:
        # Past debug.SetMaxStack the runtime stops the process: recorded, never a crash of ours.
        limit = max(plan.growth) // 2
        runs.append((max(plan.growth), limit))
    for size, max_stack in runs:
        row = dict.fromkeys(GROWTH_COLUMNS, math.nan)
        row.update(target_bytes=size, max_stack_bytes=max_stack or math.nan)
        if 4 * size > budget:
            row.update(status="skipped", reason="over the memory budget")
            rows.append(row)
            continue
        argv = [driver, "-grow", str(size)] + (["-max-stack", str(max_stack)] if max_stack else [])
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        lines = done.stdout.strip().splitlines()
        if done.returncode == 0 and lines:
            g = json.loads(lines[-1])
            row.update(
                depth=g["depth"],
                first_ns=g["first_ns"],
                second_ns=g["second_ns"],
                growth_ns=g["first_ns"] - g["second_ns"],
                stack_inuse_delta_bytes=g["stack_inuse_delta"],
                status="ok",
                reason="",
            )
        else:
            said = [x for x in done.stderr.splitlines() if "exceeds" in x or "fatal" in x]
            row.update(
                status="limit" if max_stack else "failed",
                reason="; ".join(said[:2]) or f"exit status {done.returncode}",
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=GROWTH_COLUMNS)


def free_pids() -> int:
    """PIDs (threads) still free under kernel.pid_max and threads-max."""
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    threads_max = int(Path("/proc/sys/kernel/threads-max").read_text())
    in_use = sum(1 for _ in Path("/proc").glob("[0-9]*/task/[0-9]*"))
    return max(0, min(pid_max, threads_max) - in_use)


def measure_ceiling(rows: pd.DataFrame, artifacts: Artifacts, budget: int) -> list[dict]:
    """Park as many goroutines and threads as the budget allows, or until creation fails.

    Threads stop at 90% of the free PIDs too, so the machine stays usable."""
    out = []
    python = [sys.executable, "-m", "bench.measure.memory", "--c-library", str(artifacts.c_library)]
    for kind, bound in (("goroutine", GOROUTINE_BOUND), ("thread", THREAD_BOUND)):
        mine = rows[(rows["kind"] == kind) & (rows["status"] == "ok")]
        per_unit = float(mine["rss_bytes_per_unit"].iloc[-1]) if not mine.empty else bound
        if kind == "thread":
            per_unit += 16 * 1024  # the kernel stack of each thread, not in the process's RSS
        n = int(budget // (2 * per_unit))
        limit, why = "", f"stopped at the memory budget ({budget >> 20} MiB)"
        if kind == "thread":
            limit = "8MiB"
            spare = int(0.9 * free_pids())
            if spare < n:
                n, why = spare, "stopped at 90% of the free PIDs (kernel.pid_max, threads-max)"
        argv = (
            [str(artifacts.go_driver), "-park", str(n)]
            if kind == "goroutine"
            else [*python, "threads", str(n)]
        )
        try:
            m = _child(argv, limit or None)
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
            out.append(_row(kind, n, limit, None, "failed", f"ceiling search: {e}"))
            continue
        failed = bool(m.get("error"))
        reason = m.get("message") if failed else why
        out.append(
            _row(kind, n, limit, m, "ceiling" if failed else "ok", f"ceiling search: {reason}")
        )
    return out


def _main() -> None:
    """The child side: one measurement of this process, as JSON on stdout."""
    parser = argparse.ArgumentParser(prog="python -m bench.measure.memory")
    parser.add_argument("--c-library", required=True)
    parser.add_argument("what", choices=["threads", "stack"])
    parser.add_argument("n", type=int, nargs="?", default=0)
    args = parser.parse_args()
    from bench.native.bridge import _c_library

    ffi, lib = _c_library(Path(args.c_library))
    out = ffi.new("struct sb_memory *")
    if args.what == "threads":
        lib.sb_park_threads(args.n, out)
    else:
        lib.sb_thread_stack(out)
    fields = (
        "requested",
        "created",
        "rss_before",
        "rss_after",
        "vm_before",
        "vm_after",
        "stack_bytes",
        "guard_bytes",
        "create_ns",
        "error",
    )
    result = {f: getattr(out, f) for f in fields}
    result["message"] = ffi.string(out.message).decode(errors="replace")
    print(json.dumps(result))


if __name__ == "__main__":
    _main()
