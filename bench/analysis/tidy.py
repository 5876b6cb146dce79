"""suite.json (pyperf) → samples.csv: one row per measured sample.

Each pyperf value is seconds per switch. The run's metadata carries the
same samples' getrusage counts, in order, one counted run with the
perf counters and runs of smaller loop counts (see bench.measure.worker); a count
that is missing or does not line up is left empty (NaN) — never written as
0, since 0 is a real and meaningful figure here. So is the mood canary beside each
timed value (canary_before_ns, canary_after_ns): blank where it did not run, and each
timed value's CPU share (cpu_share): blank where it was not measured.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pyperf

from bench.analysis.mood import canary_pairs, share_values
from bench.measure.worker import (
    CANARY_METADATA,
    COUNTED_METADATA,
    COUNTER_FIELDS,
    COUNTERS_METADATA,
    CPU_SHARE_METADATA,
    SIZED_METADATA,
)
from bench.native.bridge import COUNTER_NAMES
from bench.results.schema import SAMPLE_COLUMNS
from bench.results.write import write_csv


def empty_samples() -> pd.DataFrame:
    return pd.DataFrame(columns=SAMPLE_COLUMNS)


def _parse_record(raw: object) -> dict[str, int | None] | None:
    if isinstance(raw, list) and len(raw) == len(COUNTER_FIELDS):
        return dict(zip(COUNTER_FIELDS, raw, strict=True))
    return None


def _load(run: pyperf.Run, key: str) -> object:
    raw = run.get_metadata().get(key)
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _row(
    name: str,
    process: int,
    sample: int,
    kind: str,
    loops: int,
    switches: int,
    ns_per_switch: float,
    record: dict[str, int | None] | None,
) -> dict[str, object]:
    row: dict[str, object] = {
        "case": name,
        "process": process,
        "sample": sample,
        "kind": kind,
        "ops": loops,
        "switches": switches,
        "ns_per_switch": ns_per_switch,
        "voluntary_ctx": math.nan,
        "involuntary_ctx": math.nan,
        "os_ctx_switches_per_switch": math.nan,
        **dict.fromkeys(COUNTER_NAMES, math.nan),
        "canary_before_ns": math.nan,
        "canary_after_ns": math.nan,
        "cpu_share": math.nan,
    }
    if record is None or record["ops"] != loops:
        return row
    vol, invol = record["voluntary_ctx"], record["involuntary_ctx"]
    if isinstance(vol, int) and isinstance(invol, int):
        row.update(
            voluntary_ctx=vol,
            involuntary_ctx=invol,
            os_ctx_switches_per_switch=(vol + invol) / switches,
        )
    # A perf counter is a number only where it was read: null stays NaN.
    row.update({n: math.nan if record[n] is None else record[n] for n in COUNTER_NAMES})
    return row


def samples_from_suite(suite: pyperf.BenchmarkSuite) -> pd.DataFrame:
    """Rows of kind "timed" (pyperf's values: timed without perf counters) and, per
    process, one of kind "counted" (one extra run of the same loops with them on) and
    some of kind "sized" (runs of fewer loops, for the regression on loop count)."""
    rows = []
    for bench in suite.get_benchmarks():
        name = bench.get_name()
        process = 0
        for run in bench.get_runs():
            values = run.values
            if not values:  # a calibration run: warm-ups only
                continue
            process += 1
            metadata = run.get_metadata()
            switches = int(metadata["loops"]) * int(metadata.get("inner_loops", 1))
            loops = int(metadata["loops"])
            raw = _load(run, COUNTERS_METADATA)
            records = [_parse_record(r) for r in raw] if isinstance(raw, list) else []
            if len(records) != len(values):
                records = [None] * len(values)
            canaries = canary_pairs(_load(run, CANARY_METADATA), len(values))
            shares = share_values(_load(run, CPU_SHARE_METADATA), len(values))
            for i, value in enumerate(values):
                row = _row(name, process, i + 1, "timed", loops, switches, value * 1e9, records[i])
                row["canary_before_ns"], row["canary_after_ns"] = canaries[i]
                row["cpu_share"] = shares[i]
                rows.append(row)
            sized = _load(run, SIZED_METADATA)
            for i, record in enumerate(sized if isinstance(sized, list) else []):
                parsed = _parse_record(record)
                if parsed is None or not isinstance(parsed["elapsed_ns"], int):
                    continue
                ops = int(parsed["ops"] or 0)
                if ops < 1 or parsed["elapsed_ns"] <= 0:
                    continue
                inner = switches // loops
                rows.append(
                    _row(
                        name,
                        process,
                        -(i + 1),
                        "sized",
                        ops,
                        ops * inner,
                        parsed["elapsed_ns"] / (ops * inner),
                        parsed,
                    )
                )
            counted = _parse_record(_load(run, COUNTED_METADATA))
            if counted is not None and isinstance(counted["elapsed_ns"], int):
                rows.append(
                    _row(
                        name,
                        process,
                        0,
                        "counted",
                        loops,
                        switches,
                        counted["elapsed_ns"] / switches,
                        counted,
                    )
                )
    return pd.DataFrame(rows, columns=SAMPLE_COLUMNS) if rows else empty_samples()


def write_samples(suite_json: Path, out: Path) -> pd.DataFrame:
    samples = samples_from_suite(pyperf.BenchmarkSuite.load(str(suite_json)))
    write_csv(samples, out)
    return samples
