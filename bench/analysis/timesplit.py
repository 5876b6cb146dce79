"""The time split's measurements (one row per case) → its parts per switch and its two checks.

Pure arithmetic on what bench.measure.timesplit measured: every part is one measurement
(or, for "other work", the difference of two) divided by the switches of the run. A part
whose source could not be read is NaN (unavailable), never 0.

Parts, in ns per switch, on the CPUs the case ran on:
- user, kernel: the benchmark threads' ru_utime, ru_stime (getrusage);
- run-queue wait: their schedstat wait (time runnable but not running; it overlaps the
  CPU-side parts, so it is not one of them);
- idle: the CPUs' idle + iowait, steal: their steal, irq: their irq + softirq
  (/proc/stat);
- other: the other tasks on those CPUs: where they are all of the machine's CPUs, every
  other task's schedstat (ns); elsewhere the CPUs' user + nice + system minus the
  threads' user + kernel, a difference of two measurements (other_source says which).
The CPU-side parts are user, kernel, other, irq, idle and steal.

Checks: the threads' on-CPU time from schedstat against their user + kernel from
getrusage; the CPU-side parts' sum against the wall time times the CPUs. Each agrees when
within TOLERANCE of the second figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from bench.results.schema import TIMESPLIT_DERIVED as DERIVED_COLUMNS

TOLERANCE = 0.10
CPU_SIDE_PARTS = ("user", "kernel", "other", "irq", "idle", "steal")
PARTS = (*CPU_SIDE_PARTS, "runq_wait")

NAN = math.nan


def _num(row: Mapping[str, object], key: str) -> float:
    """The row's number, NaN where it is missing or empty."""
    value = row.get(key)
    if value is None or value == "":
        return NAN
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return NAN


def _agree(ratio: float) -> str:
    """'yes' or 'no' for a ratio of two sources, '' where either was unavailable."""
    if math.isnan(ratio):
        return ""
    return "yes" if abs(ratio - 1) <= TOLERANCE else "no"


# Where "other work" came from (timesplit.csv's other_source).
OTHER_FROM_TASKS = "every other task's schedstat"
OTHER_FROM_TICKS = "the CPUs' /proc/stat less the threads' getrusage"


def _other_work(row: Mapping[str, object], threads_ns: float) -> tuple[float, str]:
    """The other tasks' time on the case's CPUs, and its source. Where those CPUs are
    all of the machine's, it is measured directly: the schedstat (ns) of every task but
    the benchmark's. Elsewhere the machine-wide sum would count other CPUs' work, so it
    is the CPUs' user + nice + system (/proc/stat) less the threads' own user + kernel:
    a difference of two measurements, one of them counted in ticks."""
    others = _num(row, "others_oncpu_ns")
    online, ncpus = _num(row, "online_cpus"), _num(row, "ncpus")
    if not math.isnan(others) and online > 0 and ncpus == online:
        return others, OTHER_FROM_TASKS
    busy = sum(_num(row, f"cpu_{f}_ns") for f in ("user", "nice", "system"))
    return busy - threads_ns, OTHER_FROM_TICKS


def derive(row: Mapping[str, object]) -> dict[str, object]:
    """One measured row's parts per switch, user share and checks (DERIVED_COLUMNS);
    all unavailable for a case that was not measured."""
    if row.get("status") != "ok":
        return {
            c: "" if c.endswith("_agree") or c == "other_source" else NAN for c in DERIVED_COLUMNS
        }
    switches = _num(row, "switches")
    per = (lambda ns: ns / switches) if switches > 0 else (lambda ns: NAN)
    user, kernel = _num(row, "thread_user_ns"), _num(row, "thread_kernel_ns")
    other, other_source = _other_work(row, user + kernel)
    parts = {
        "user": user,
        "kernel": kernel,
        "other": other,
        "irq": _num(row, "cpu_irq_ns") + _num(row, "cpu_softirq_ns"),
        "idle": _num(row, "cpu_idle_ns") + _num(row, "cpu_iowait_ns"),
        "steal": _num(row, "cpu_steal_ns"),
        "runq_wait": _num(row, "runq_wait_ns"),
    }
    out: dict[str, object] = {f"{p}_ns_per_switch": per(v) for p, v in parts.items()}
    cpu_side = sum(parts[p] for p in CPU_SIDE_PARTS)  # NaN if any is unavailable
    wall_cpus = _num(row, "region_ns") * _num(row, "ncpus")
    out["parts_ns_per_switch"] = per(cpu_side)
    out["wall_cpus_ns_per_switch"] = per(wall_cpus)
    hz = _num(row, "user_hz")
    out["tick_ns_per_switch"] = per(1e9 / hz) if hz > 0 else NAN
    on_cpu = user + kernel
    out["user_share"] = user / on_cpu if on_cpu > 0 else NAN
    oncpu_ratio = _num(row, "thread_oncpu_ns") / on_cpu if on_cpu > 0 else NAN
    parts_ratio = cpu_side / wall_cpus if wall_cpus > 0 else NAN
    out["oncpu_ratio"] = oncpu_ratio
    out["oncpu_agree"] = _agree(oncpu_ratio)
    out["parts_ratio"] = parts_ratio
    out["parts_agree"] = _agree(parts_ratio)
    out["other_source"] = other_source
    return out


def with_derived(measured: pd.DataFrame) -> pd.DataFrame:
    """The measured rows with DERIVED_COLUMNS filled in (replacing any already there)."""
    rows = [
        {**row, **derive(row)}
        for row in measured.drop(columns=DERIVED_COLUMNS, errors="ignore").to_dict("records")
    ]
    return pd.DataFrame(
        rows, columns=[*measured.columns.drop(DERIVED_COLUMNS, errors="ignore"), *DERIVED_COLUMNS]
    )
