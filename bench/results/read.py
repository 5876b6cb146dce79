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

import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import UsageError
from bench.results.schema import (
    AGREEMENT_COLUMNS,
    AGREEMENT_CSV,
    HOST_JSON,
    OVERHEAD_CSV,
    READABLE_SCHEMAS,
    RUN_JSON,
    SAMPLES_CSV,
    SCHEMA_VERSION,
    SINCE_SCHEMA_2,
    SINCE_SLOPE_RANGE,
    SUMMARY_COLUMNS,
    SUMMARY_CSV,
)
from bench.results.write import MIB, read_csv, read_json

# Far above anything a run writes (67 cases; a full run keeps under 2,000 values of
# a case), far below what would exhaust memory (the bootstrap holds thousands of
# resamples of a case's values at once).
MAX_CASES = 1000
MAX_SAMPLES_PER_CASE = 5000
MAX_SAMPLE_ROWS = 1_000_000
JSON_LIMIT = 4 * MIB
SUMMARY_LIMIT = 8 * MIB
SAMPLES_LIMIT = 96 * MIB
TABLE_LIMIT = 16 * MIB
STATUSES = ("ok", "skipped", "failed", "not run")
# leaks.csv names each saved pprof profile; only files in leaks/ are ever named.
PROFILE_PATH = re.compile(r"leaks/[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.pb\.gz")


def shown(value: object, width: int = 40) -> str:
    """A value for an error line: control and bidi characters escaped, long text cut."""
    text = str(value)
    text = "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in text
    )
    return text if len(text) <= width else text[: width - 1] + "…"


def _columns_missing(path: Path, missing: list[str]) -> UsageError:
    named = ", ".join(missing[:3])
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    return UsageError(
        f"{path} lacks the column{'s' if len(missing) > 1 else ''} {named}{more}; "
        "it was not written by this switchbench, or it is damaged"
    )


# ---- typed tables ---------------------------------------------------------------

TEXT, NUMBER, NONNEG, POSITIVE, COUNT = "text", "number", "nonneg", "positive", "count"


def _typed(path: Path, frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """frame (all text) with its numeric columns converted and checked, empty cells
    NaN; a one-line error naming the first bad cell."""
    out = frame.copy()
    for column, kind in kinds.items():
        if column not in out.columns:
            continue
        text = out[column].astype(str)
        given = text.str.strip() != ""
        if kind == TEXT:
            out[column] = text.where(given, math.nan).astype(object)
            continue
        values = pd.to_numeric(text.where(given, ""), errors="coerce")
        bad = given & ~values.map(lambda v: math.isfinite(v) if v == v else False)
        if kind == NONNEG:
            bad |= given & (values < 0)
        elif kind in (POSITIVE,):
            bad |= given & (values <= 0)
        elif kind == COUNT:
            bad |= given & ((values < 0) | (values != values.round()))
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            need = {
                NUMBER: "a finite number",
                NONNEG: "a finite number, not negative",
                POSITIVE: "a positive finite number",
                COUNT: "a whole number, not negative",
            }[kind]
            raise UsageError(
                f"{path}: column {column} holds {shown(text.iloc[row])} in row {row + 1}, "
                f"where it needs {need}; the folder is damaged"
            )
        out[column] = values.where(given, math.nan).astype(float)
    return out


def _table(
    path: Path,
    kinds: dict[str, str],
    required: list[str],
    limit: int = TABLE_LIMIT,
    max_rows: int = 100_000,
) -> pd.DataFrame:
    frame = read_csv(path, limit)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise _columns_missing(path, missing)
    if len(frame) > max_rows:
        raise UsageError(
            f"{path} has {len(frame):,} rows, more than the {max_rows:,} a result file may; "
            "the folder is damaged or not a result folder"
        )
    for column in kinds:
        if column not in frame.columns:
            frame[column] = ""
    return _typed(path, frame, kinds)


def _optional_table(
    folder: Path, name: str, kinds: dict[str, str], required: list[str]
) -> pd.DataFrame | None:
    path = folder / name
    if not path.exists() and not path.is_symlink():
        return None
    return _table(path, kinds, required)


# ---- JSON with expected types ---------------------------------------------------

# A spec is a type, a tuple of alternatives, a dict of known keys (others are
# ignored), ("map", spec) for any keys, or ("list", spec). null is always allowed.
HOST_SPEC: dict[str, Any] = {
    "schema_version": int,
    "hostname": str,
    "cpu_model": str,
    "logical_cpus": int,
    "usable_cpus": ("list", int),
    "physical_cores": int,
    "kernel": str,
    "os": str,
    "machine": str,
    "virtualisation": {
        "hypervisor_flag": bool,
        "vm": str,
        "container": str,
        "dmi_product": str,
        "sys_vendor": str,
    },
    "smt": {"active": bool, "control": str},
    "caches": str,
    "mitigations": {"boot_option": str, "vulnerabilities": ("map", str)},
    "cpu_mhz_reported": float,
    "cpufreq_governor": str,
    "perf_event_paranoid": int,
    "ulimit_s": {"soft_bytes": (int, str), "hard_bytes": (int, str)},
    "versions": ("map", str),
    "counters": ("map", ({"available": bool, "reason": str}, str)),
    "clock": {"ghz": float, "method": str},
}

RUN_SPEC: dict[str, Any] = {
    "status": str,
    "profile": str,
    "profile_settings": dict,
    "selected": ("list", str),
    "repeat": int,
    "memory": bool,
    "leaks": bool,
    "overhead": bool,
    "agreement": bool,
    "agreement_unavailable": str,
    "started_utc": str,
    "wall_s": float,
    "argv": ("list", str),
    "cases": (
        "map",
        {
            "status": str,
            "reason": str,
            "wall_s": float,
            "start_s": float,
            "end_s": float,
            "stop": str,
            "ci_half_width": float,
            "batches": int,
            "passes": int,
        },
    ),
}


def _type_name(spec: Any) -> str:
    if isinstance(spec, dict) or spec is dict:
        return "an object"
    if isinstance(spec, tuple) and spec and spec[0] == "map":
        return "an object"
    if isinstance(spec, tuple) and spec and spec[0] == "list":
        return "a list"
    if isinstance(spec, tuple):
        return " or ".join(_type_name(s) for s in spec)
    return {int: "a whole number", float: "a finite number", str: "text", bool: "true or false"}[
        spec
    ]


def _fits(value: Any, spec: Any) -> bool:
    """Whether value has the spec's shape at its top level (children checked apart)."""
    if value is None:
        return True
    if isinstance(spec, dict) or spec is dict:
        return isinstance(value, dict)
    if isinstance(spec, tuple) and spec and spec[0] == "map":
        return isinstance(value, dict)
    if isinstance(spec, tuple) and spec and spec[0] == "list":
        return isinstance(value, list)
    if isinstance(spec, tuple):
        return any(_fits(value, s) for s in spec)
    if spec is float:
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, spec)


def _check(path: Path, where: str, value: Any, spec: Any) -> None:
    if not _fits(value, spec):
        raise UsageError(
            f"{path}: {where} is {shown(repr(value)[:40])}, where it needs {_type_name(spec)}; "
            "the folder is damaged"
        )
    if value is None:
        return
    if isinstance(spec, tuple) and spec and spec[0] in ("map", "list"):
        items = value.items() if spec[0] == "map" else enumerate(value)
        for key, child in items:
            _check(path, f"{where}[{shown(key)}]", child, spec[1])
    elif isinstance(spec, tuple):
        chosen = next(s for s in spec if _fits(value, s))
        _check(path, where, value, chosen) if chosen is not spec else None
    elif isinstance(spec, dict):
        for key, child_spec in spec.items():
            _check(path, f"{where}.{key}", value.get(key), child_spec)


def _checked_json(path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    data = read_json(path, JSON_LIMIT)
    for key, child in spec.items():
        _check(path, key, data.get(key), child)
    return data


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
    return _checked_json(path, HOST_SPEC)


def load_run(folder: Path) -> dict[str, Any]:
    path = folder / RUN_JSON
    if not path.exists() and not path.is_symlink():
        return {}
    return _checked_json(path, RUN_SPEC)


# ---- summary.csv and samples.csv ------------------------------------------------

# Columns of words; every other column of SUMMARY_COLUMNS holds numbers.
SUMMARY_TEXT = {"case", "status", "reason", "description", "unit", "one_op", "trust", "stop"}
SUMMARY_TEXT |= {"os_ctx_source", "os_ctx_check", "sweep"}
# Columns that may be negative: a regression's intercept and slope CI can be.
SUMMARY_SIGNED = ("intercept_ns", "slope_ci_low", "slope_ci_high", "slope_ns_per_switch")
SUMMARY_SIGNED += ("slope_range_low", "slope_range_high")
SUMMARY_COUNTS = ("samples", "processes", "switches_per_op")
SUMMARY_KINDS = {
    c: TEXT
    if c in SUMMARY_TEXT
    else NUMBER
    if c in SUMMARY_SIGNED
    else COUNT
    if c in SUMMARY_COUNTS
    else NONNEG
    for c in SUMMARY_COLUMNS
}
# Text columns the report shows as "" rather than "—" when empty.
SUMMARY_BLANK_TEXT = ("reason", "sweep", "unit", "one_op", "os_ctx_check", "trust", "stop")


def load_summary(folder: Path, selected: list[str] | None = None) -> pd.DataFrame:
    """summary.csv, typed and checked; `selected` (run.json's cases) must all be there."""
    path = folder / SUMMARY_CSV
    frame = read_csv(path, SUMMARY_LIMIT)
    # A schema-1 folder, or one from before the slope range: not measured then.
    for column in (*SINCE_SCHEMA_2, *SINCE_SLOPE_RANGE):
        if column not in frame.columns:
            frame[column] = ""
    missing = [c for c in SUMMARY_COLUMNS if c not in frame.columns]
    if missing:
        raise _columns_missing(path, missing)
    if len(frame) > MAX_CASES:
        raise UsageError(
            f"{path} lists {len(frame):,} cases, more than the {MAX_CASES:,} a result folder "
            "may; it is not a switchbench result folder"
        )
    summary = _typed(path, frame, SUMMARY_KINDS)
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


SAMPLE_KINDS = {"case": TEXT, "process": COUNT, "kind": TEXT, "ns_per_switch": NUMBER}


def load_samples(folder: Path, summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """The timed samples of samples.csv (case, process, ns_per_switch), checked; with
    the summary, each measured case must have exactly as many as it says."""
    path = folder / SAMPLES_CSV
    frame = read_csv(path, SAMPLES_LIMIT)
    missing = [c for c in SAMPLE_KINDS if c not in frame.columns]
    if missing:
        raise _columns_missing(path, missing)
    if len(frame) > MAX_SAMPLE_ROWS:
        raise UsageError(
            f"{path} has {len(frame):,} rows, more than the {MAX_SAMPLE_ROWS:,} a result "
            "folder may; it is not a switchbench result folder"
        )
    frame = frame[list(SAMPLE_KINDS)]
    timed = frame[frame["kind"] == "timed"].reset_index(drop=True)
    samples = _typed(path, timed, SAMPLE_KINDS)
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

MEMORY_KINDS = {
    "kind": TEXT,
    "requested": COUNT,
    "created": COUNT,
    "ulimit_s": TEXT,
    "rss_bytes_per_unit": NUMBER,
    "virtual_bytes_per_unit": NUMBER,
    "stack_bytes_per_unit": NUMBER,
    "go_sys_bytes_per_unit": NUMBER,
    "create_ns_per_unit": NUMBER,
    "status": TEXT,
    "reason": TEXT,
}
STACK_KINDS = {
    "ulimit_s": TEXT,
    "thread_stack_bytes": NONNEG,
    "guard_bytes": NONNEG,
    "status": TEXT,
    "reason": TEXT,
}
GROWTH_KINDS = {
    "target_bytes": NONNEG,
    "depth": NONNEG,
    "first_ns": NONNEG,
    "second_ns": NONNEG,
    "growth_ns": NUMBER,
    "stack_inuse_delta_bytes": NUMBER,
    "max_stack_bytes": NONNEG,
    "status": TEXT,
    "reason": TEXT,
}
SYSTEM_KINDS = {
    "t_s": NONNEG,
    "case": TEXT,
    "ctxt": NONNEG,
    "processes": NONNEG,
    "procs_running": NONNEG,
    "procs_blocked": NONNEG,
}


def load_memory(folder: Path) -> pd.DataFrame:
    """Every row of memory.csv, typed; empty when the run has no memory step."""
    table = _optional_table(folder, "memory.csv", MEMORY_KINDS, ["kind", "status"])
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


def _text_table(folder: Path, name: str, numeric: dict[str, str], required: list[str]) -> Any:
    """A table its section reads as text (NaN where empty), its numeric columns checked
    but kept as written, so the section shows them as the run wrote them."""
    path = folder / name
    if not path.exists() and not path.is_symlink():
        return None
    raw = read_csv(path, TABLE_LIMIT)
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise _columns_missing(path, missing)
    if len(raw) > 100_000:
        raise UsageError(f"{path} has {len(raw):,} rows, more than a result file may")
    _typed(path, raw, numeric)
    return raw.where(raw.apply(lambda c: c.astype(str).str.strip() != ""), math.nan)


def load_leaks(folder: Path) -> pd.DataFrame | None:
    from bench.results.schema import LEAK_COLUMNS

    numeric = {
        c: NUMBER
        for c in LEAK_COLUMNS
        if c.endswith(("_per_iter", "_slope", "_per_leak", "_ns", "_count", "_left", "_objects"))
        or c in ("k", "callbacks_run")
    }
    table = _text_table(folder, "leaks.csv", numeric, ["scenario", "version", "status"])
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
    from bench.results.schema import OVERHEAD_COLUMNS

    numeric = {
        c: NUMBER
        for c in OVERHEAD_COLUMNS
        if c.endswith(("_ns", "_low", "_high"))
        or c in ("ratio", "round_trips", "samples")
        or c == "processes"
    }
    return _text_table(folder, OVERHEAD_CSV, numeric, ["case", "kind", "status"])


def load_agreement(folder: Path) -> pd.DataFrame | None:

    numeric = {
        c: NUMBER
        for c in AGREEMENT_COLUMNS
        if c in ("round", "round_trips", "ns_per_switch", "cpu")
    }
    return _text_table(folder, AGREEMENT_CSV, numeric, AGREEMENT_COLUMNS)


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
        thread_stacks=_optional_table(path, "thread_stacks.csv", STACK_KINDS, ["ulimit_s"]),
        stack_growth=_optional_table(path, "stack_growth.csv", GROWTH_KINDS, ["target_bytes"]),
        leaks=load_leaks(path),
        overhead=load_overhead(path),
        system=_optional_table(path, "system.csv", SYSTEM_KINDS, ["t_s", "ctxt"]),
        agreement=load_agreement(path),
    )
