"""suite.json (pyperf) -> samples.csv: one row per measured sample.

Each pyperf value is seconds per switch. The run's metadata carries the
same samples' OS context-switch counts, in order (see bench.worker); a
count that is missing or does not line up is left empty (NaN) — never
written as 0, since 0 is a real and meaningful figure here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pyperf

from bench.native import COUNTER_NAMES
from bench.worker import COUNTER_FIELDS, COUNTERS_METADATA

SAMPLE_COLUMNS = [
    "case",
    "process",
    "sample",
    "ops",
    "switches",
    "ns_per_switch",
    "voluntary_ctx",
    "involuntary_ctx",
    "os_ctx_switches_per_switch",
    *COUNTER_NAMES,
]


def empty_samples() -> pd.DataFrame:
    return pd.DataFrame(columns=SAMPLE_COLUMNS)


def _counter_records(run: pyperf.Run) -> list[dict[str, int]] | None:
    raw = run.get_metadata().get(COUNTERS_METADATA)
    if not isinstance(raw, str):
        return None
    try:
        records = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(records, list) or not all(
        isinstance(r, list) and len(r) == len(COUNTER_FIELDS) for r in records
    ):
        return None
    return [dict(zip(COUNTER_FIELDS, r, strict=True)) for r in records]


def samples_from_suite(suite: pyperf.BenchmarkSuite) -> pd.DataFrame:
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
            switches_per_op = int(metadata.get("inner_loops", 1))
            loops = int(metadata["loops"])
            records = _counter_records(run)
            if records is not None and len(records) != len(values):
                records = None
            for i, value in enumerate(values):
                switches = loops * switches_per_op
                row = {
                    "case": name,
                    "process": process,
                    "sample": i + 1,
                    "ops": loops,
                    "switches": switches,
                    "ns_per_switch": value * 1e9,
                    "voluntary_ctx": math.nan,
                    "involuntary_ctx": math.nan,
                    "os_ctx_switches_per_switch": math.nan,
                    **dict.fromkeys(COUNTER_NAMES, math.nan),
                }
                if records is not None and records[i]["ops"] == loops:
                    vol, invol = records[i]["voluntary_ctx"], records[i]["involuntary_ctx"]
                    row.update(
                        voluntary_ctx=vol,
                        involuntary_ctx=invol,
                        os_ctx_switches_per_switch=(vol + invol) / switches,
                    )
                    # A perf counter is a number only where it was read: null stays NaN.
                    row.update(
                        {
                            name: math.nan if records[i][name] is None else records[i][name]
                            for name in COUNTER_NAMES
                        }
                    )
                rows.append(row)
    return pd.DataFrame(rows, columns=SAMPLE_COLUMNS) if rows else empty_samples()


def write_samples(suite_json: Path, out: Path) -> pd.DataFrame:
    samples = samples_from_suite(pyperf.BenchmarkSuite.load(str(suite_json)))
    tmp = out.with_name(out.name + ".tmp")
    samples.to_csv(tmp, index=False)
    tmp.replace(out)
    return samples
