"""A result folder → a checked, in-memory Folder (host, run, summary, samples, tables).

The folder is read as untrusted input.

A folder may come from another machine or a stranger, so `load` reads and checks
every file that `report` and `compare` use before either writes anything: only
regular files, each under a size limit, every column of its expected type, counts
that agree between files (so a file cut off at a row boundary is caught too), and
bounds on how many cases and samples there are. Any problem is one UsageError that
names the file, the column and the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import UsageError
from bench.results.checks import (
    JSON_LIMIT,
    NUMBER,
    checked_csv,
    checked_json,
    optional_table,
    shown,
    text_table,
    typed,
)
from bench.results.schema import (
    AGREEMENT_COLUMNS,
    AGREEMENT_CSV,
    GROWTH_KINDS,
    HOST_JSON,
    HOST_SPEC,
    MEMORY_KINDS,
    OVERHEAD_CSV,
    READABLE_SCHEMAS,
    RUN_JSON,
    RUN_SPEC,
    SAMPLE_KINDS,
    SAMPLES_CSV,
    SCHEMA_VERSION,
    SINCE_CANARY_SAMPLES,
    SINCE_CPU_SHARE_SAMPLES,
    SINCE_MOOD,
    SINCE_MOOD_SHARE,
    SINCE_SCHEMA_2,
    SINCE_SLOPE_RANGE,
    STACK_KINDS,
    SUMMARY_BLANK_TEXT,
    SUMMARY_COLUMNS,
    SUMMARY_CSV,
    SUMMARY_KINDS,
    SYSTEM_KINDS,
    THREAD_KINDS,
)
from bench.results.write import MIB, read_json

# Far above anything a run writes (67 cases; a full run keeps under 2,000 values of
# a case), far below what would exhaust memory (the bootstrap holds thousands of
# resamples of a case's values at once).
MAX_CASES = 1000
MAX_SAMPLES_PER_CASE = 5000
MAX_SAMPLE_ROWS = 1_000_000
SUMMARY_LIMIT = 8 * MIB
SAMPLES_LIMIT = 96 * MIB
STATUSES = ("ok", "skipped", "failed", "not run")
# leaks.csv names each saved pprof profile; only files in leaks/ are ever named.
PROFILE_PATH = re.compile(r"leaks/[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.pb\.gz")


# ---- JSON with expected types ---------------------------------------------------


def load_host(folder: Path) -> dict[str, Any]:
    path = folder / HOST_JSON
    host = read_json(path, JSON_LIMIT)
    version = host.get("schema_version")
    if version not in READABLE_SCHEMAS or isinstance(version, bool):
        newer = isinstance(version, int) and not isinstance(version, bool)
        newer = newer and version > SCHEMA_VERSION
        raise UsageError(
            f"{path} has schema_version {shown(repr(version))}; this switchbench reads "
            f"{', '.join(map(str, READABLE_SCHEMAS))}: "
            + (
                "upgrade switchbench to read it"
                if newer
                else "use the switchbench release that wrote the folder"
            )
        )
    return checked_json(path, HOST_SPEC)


def load_run(folder: Path) -> dict[str, Any]:
    path = folder / RUN_JSON
    if not path.exists() and not path.is_symlink():
        return {}
    return checked_json(path, RUN_SPEC)


# ---- summary.csv and samples.csv ------------------------------------------------


def load_summary(folder: Path, selected: list[str] | None = None) -> pd.DataFrame:
    """summary.csv, typed and checked; `selected` (run.json's cases) must all be there."""
    path = folder / SUMMARY_CSV
    # A schema-1 folder, or one from before the slope range: not measured then.
    since = (*SINCE_SCHEMA_2, *SINCE_SLOPE_RANGE, *SINCE_MOOD, *SINCE_MOOD_SHARE)
    frame = checked_csv(path, SUMMARY_COLUMNS, SUMMARY_LIMIT, MAX_CASES, since)
    summary = typed(path, frame, SUMMARY_KINDS)
    cases = frame["case"].astype(str)
    if (cases.str.strip() == "").any():
        raise UsageError(f"{path}: a row has no case id; the folder is damaged")
    if cases.duplicated().any():
        raise UsageError(
            f"{path} lists case {shown(cases[cases.duplicated()].iloc[0])} twice; "
            "the folder is damaged"
        )
    bad_status = ~frame["status"].isin(STATUSES)
    if bad_status.any():
        raise UsageError(
            f"{path}: case {shown(cases[bad_status].iloc[0])} has status "
            f"{shown(frame['status'][bad_status].iloc[0])}, not one of {', '.join(STATUSES)}; "
            "the folder is damaged"
        )
    summary["case"] = cases
    summary["status"] = frame["status"].astype(str)
    ok = summary["status"] == "ok"
    for column in ("ns_per_switch", "samples", "processes"):
        unmeasured = ok & ~(summary[column] > 0)
        if unmeasured.any():
            raise UsageError(
                f"{path}: measured case {shown(cases[unmeasured].iloc[0])} has no positive "
                f"{column}; the folder is damaged"
            )
    if selected is not None:
        absent = [c for c in selected if c not in set(cases)]
        if absent:
            raise UsageError(
                f"{path} lists {len(cases)} cases, but run.json selected {len(selected)} "
                f"(missing {shown(absent[0])}); the file is cut off or damaged"
            )
    for column in SUMMARY_BLANK_TEXT:
        summary[column] = summary[column].fillna("")
    return summary


def load_samples(folder: Path, summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """The timed samples of samples.csv (case, process, ns_per_switch), checked; with
    the summary, each measured case must have exactly as many as it says."""
    path = folder / SAMPLES_CSV
    since = (*SINCE_CANARY_SAMPLES, *SINCE_CPU_SHARE_SAMPLES)
    frame = checked_csv(path, list(SAMPLE_KINDS), SAMPLES_LIMIT, MAX_SAMPLE_ROWS, since)
    frame = frame[list(SAMPLE_KINDS)]
    timed = frame[frame["kind"] == "timed"].reset_index(drop=True)
    samples = typed(path, timed, SAMPLE_KINDS)
    samples["case"] = timed["case"].astype(str)
    bad = ~(samples["ns_per_switch"] > 0) | ~(samples["process"] > 0)
    if bad.any():
        raise UsageError(
            f"{path}: a timed sample of {shown(samples['case'][bad].iloc[0])} has no positive "
            "process and ns_per_switch; the folder is damaged"
        )
    per_case = samples.groupby("case").size()
    if len(per_case) and per_case.max() > MAX_SAMPLES_PER_CASE:
        raise UsageError(
            f"{path} holds {per_case.max():,} samples of {shown(per_case.idxmax())}, more than "
            f"the {MAX_SAMPLES_PER_CASE:,} a case may; it is not a switchbench result folder"
        )
    if summary is not None:
        listed = summary.set_index("case")
        for case in per_case.index:
            if case not in listed.index:
                raise UsageError(
                    f"{path} has samples of {shown(case)}, which summary.csv does not list; "
                    "the folder is damaged"
                )
        for case, row in listed[listed["status"] == "ok"].iterrows():
            have = int(per_case.get(case, 0))
            if have != int(row["samples"]):
                raise UsageError(
                    f"{path} holds {have} timed samples of {shown(case)} where summary.csv "
                    f"counts {int(row['samples'])}; the file is cut off or damaged"
                )
    return samples


# ---- the optional tables --------------------------------------------------------


def load_memory(folder: Path) -> pd.DataFrame:
    """Every row of memory.csv, typed; empty when the run has no memory step."""
    table = optional_table(folder, "memory.csv", MEMORY_KINDS, ["kind", "status"])
    return pd.DataFrame() if table is None else table


def measured_memory(mem: pd.DataFrame) -> pd.DataFrame:
    """The measured rows (ok, or stopped at the ceiling) with both numbers present."""
    if mem.empty:
        return mem
    rows = mem[mem["status"].isin(["ok", "ceiling"])]
    return rows.dropna(subset=["created", "rss_bytes_per_unit"])


def memory_curve(mem: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One kind's measured rows ("goroutine" or "thread") by count parked; threads under
    the 8 MiB `ulimit -s` where that was measured, the usual default."""
    mem = measured_memory(mem)
    if mem.empty:
        return mem
    rows = mem[mem["kind"] == kind]
    if kind == "thread" and (rows["ulimit_s"] == "8MiB").any():
        rows = rows[rows["ulimit_s"] == "8MiB"]
    return rows.sort_values("created")


def load_leaks(folder: Path) -> pd.DataFrame | None:
    from bench.results.schema import LEAK_COLUMNS

    numeric = {
        c: NUMBER
        for c in LEAK_COLUMNS
        if c.endswith(("_per_iter", "_slope", "_per_leak", "_ns", "_count", "_left", "_objects"))
        or c in ("k", "callbacks_run")
    }
    table = text_table(folder, "leaks.csv", numeric, ["scenario", "version", "status"])
    if table is None:
        return None
    for column in ("goroutine_profile", "goroutineleak_profile"):
        if column not in table.columns:
            continue
        for value in table[column].dropna():
            if str(value).strip() and not PROFILE_PATH.fullmatch(str(value)):
                raise UsageError(
                    f"{folder / 'leaks.csv'}: column {column} names {shown(value)}, not a "
                    "profile in leaks/ (leaks/NAME.pb.gz); the folder is damaged"
                )
    return table


def load_overhead(folder: Path) -> pd.DataFrame | None:
    """overhead.csv as measured; the suite's columns of folders before schema 3 are
    dropped (bench.analysis.overhead computes them from summary.csv for every folder)."""
    from bench.results.schema import OVERHEAD_COLUMNS, OVERHEAD_SUITE_COLUMNS

    numeric = {
        c: NUMBER
        for c in OVERHEAD_COLUMNS
        if c.endswith(("_ns", "_low", "_high")) or c in ("round_trips", "samples", "processes")
    }
    table = text_table(folder, OVERHEAD_CSV, numeric, ["case", "kind", "status"])
    if table is None:
        return None
    return table.drop(columns=[c for c in OVERHEAD_SUITE_COLUMNS if c in table.columns])


def load_agreement(folder: Path) -> pd.DataFrame | None:

    numeric = {
        c: NUMBER
        for c in AGREEMENT_COLUMNS
        if c in ("round", "round_trips", "ns_per_switch", "cpu")
    }
    return text_table(folder, AGREEMENT_CSV, numeric, AGREEMENT_COLUMNS)


def load_latency(folder: Path) -> pd.DataFrame | None:
    """latency.csv, typed; None when the run has no latency step."""
    from bench.results.schema import LATENCY_CSV, LATENCY_KINDS

    return optional_table(folder, LATENCY_CSV, LATENCY_KINDS, ["case", "status"])


def load_latency_hist(folder: Path) -> pd.DataFrame | None:
    """latency_hist.csv, typed, each bin checked to be one (low < high); None without it."""
    from bench.results.schema import LATENCY_HIST_COLUMNS, LATENCY_HIST_CSV, LATENCY_HIST_KINDS

    table = optional_table(folder, LATENCY_HIST_CSV, LATENCY_HIST_KINDS, LATENCY_HIST_COLUMNS)
    if table is not None and table[["low_ns", "high_ns", "count"]].isna().any().any():
        raise UsageError(
            f"{folder / LATENCY_HIST_CSV} has an empty bin cell; the folder is damaged"
        )
    if table is not None and (table["low_ns"] >= table["high_ns"]).any():
        raise UsageError(
            f"{folder / LATENCY_HIST_CSV} has a bin whose low_ns is not below its high_ns; "
            "the folder is damaged"
        )
    return table


def load_timesplit(folder: Path) -> pd.DataFrame | None:
    """timesplit.csv, every column checked (None where the run has none)."""
    from bench.results.schema import TIMESPLIT_COLUMNS, TIMESPLIT_CSV, TIMESPLIT_KINDS

    return optional_table(folder, TIMESPLIT_CSV, TIMESPLIT_KINDS, TIMESPLIT_COLUMNS)


@dataclass(frozen=True)
class Folder:
    """Every file of a result folder that a report or a comparison reads, checked."""

    path: Path
    host: dict[str, Any]
    run: dict[str, Any]
    summary: pd.DataFrame
    samples: pd.DataFrame
    memory: pd.DataFrame = field(default_factory=pd.DataFrame)
    thread_stacks: pd.DataFrame | None = None
    stack_growth: pd.DataFrame | None = None
    leaks: pd.DataFrame | None = None
    overhead: pd.DataFrame | None = None
    system: pd.DataFrame | None = None
    agreement: pd.DataFrame | None = None
    latency: pd.DataFrame | None = None
    latency_hist: pd.DataFrame | None = None
    timesplit: pd.DataFrame | None = None
    threads: pd.DataFrame | None = None  # threads.csv: per-thread switches (pidstat -w)


def load(path: Path) -> Folder:
    """Read and check the whole folder; nothing is written."""
    if path.is_symlink() and not path.is_dir():
        raise UsageError(f"{path} is a symbolic link to no folder; give a result folder")
    if not path.is_dir():
        raise UsageError(f"{path} is not a folder; give a result folder made by `switchbench run`")
    host = load_host(path)
    run = load_run(path)
    selected = run.get("selected")
    summary = load_summary(path, selected if isinstance(selected, list) else None)
    return Folder(
        path=path,
        host=host,
        run=run,
        summary=summary,
        samples=load_samples(path, summary),
        memory=load_memory(path),
        thread_stacks=optional_table(path, "thread_stacks.csv", STACK_KINDS, ["ulimit_s"]),
        stack_growth=optional_table(path, "stack_growth.csv", GROWTH_KINDS, ["target_bytes"]),
        leaks=load_leaks(path),
        overhead=load_overhead(path),
        system=optional_table(path, "system.csv", SYSTEM_KINDS, ["t_s", "ctxt"]),
        agreement=load_agreement(path),
        latency=load_latency(path),
        latency_hist=load_latency_hist(path),
        timesplit=load_timesplit(path),
        threads=optional_table(path, "threads.csv", THREAD_KINDS, ["t_s", "tid", "voluntary"]),
    )
