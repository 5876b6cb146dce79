"""Reading a result folder back, as untrusted input: every file is checked
before it is used, and a problem is one UsageError naming the file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from bench.analyse import SINCE_SCHEMA_2, SUMMARY_COLUMNS
from bench.errors import UsageError
from bench.host import READABLE_SCHEMAS, SCHEMA_VERSION


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(
            f"{path} is missing; give a result folder made by `switchbench run`"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UsageError(
            f"{path} is not readable JSON ({type(e).__name__}); the folder is "
            "damaged: rerun, or restore it from where it came"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} holds no JSON object; the folder is damaged")
    return data


def load_host(folder: Path) -> dict[str, Any]:
    host = _json(folder / "host.json")
    version = host.get("schema_version")
    if version not in READABLE_SCHEMAS:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        raise UsageError(
            f"{folder / 'host.json'} has schema_version {version!r}; this switchbench reads "
            f"{', '.join(map(str, READABLE_SCHEMAS))}: "
            + (
                "upgrade switchbench to read it"
                if newer
                else "use the switchbench release that wrote the folder"
            )
        )
    return host


def load_run(folder: Path) -> dict[str, Any]:
    return _json(folder / "run.json") if (folder / "run.json").exists() else {}


def load_summary(folder: Path) -> pd.DataFrame:
    path = folder / "summary.csv"
    try:
        summary = pd.read_csv(path)
    except FileNotFoundError:
        raise UsageError(
            f"{path} is missing; give a result folder made by `switchbench run`"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UsageError(
            f"{path} is not a readable CSV ({type(e).__name__}); the folder is damaged"
        ) from None
    for column in SINCE_SCHEMA_2:  # a schema-1 folder: not measured then
        if column not in summary.columns:
            summary[column] = "" if column in ("trust", "stop") else math.nan
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise UsageError(
            f"{path} lacks the columns {', '.join(missing)}; it was not written by this switchbench"
        )
    for column in ("ns_per_switch", "ci_low", "ci_high", "samples", "os_ctx_switches_per_switch"):
        values = pd.to_numeric(summary[column], errors="coerce")
        given = summary[column].notna()
        if (values[given].isna()).any():
            raise UsageError(f"{path}: column {column} holds something that is not a number")
        bad = values[given & ~values.map(lambda v: math.isfinite(v) and v >= 0)]
        if not bad.empty:
            raise UsageError(
                f"{path}: column {column} holds {bad.iloc[0]!r}; times and counts "
                "must be finite and not negative"
            )
        summary[column] = values
    ok = summary["status"] == "ok"
    if (summary.loc[ok, "ns_per_switch"] <= 0).any():
        raise UsageError(f"{path}: a measured case has no positive ns_per_switch")
    return summary


def load_samples(folder: Path) -> pd.DataFrame:
    """The timed samples of samples.csv (case, process, ns_per_switch), checked."""
    path = folder / "samples.csv"
    try:
        samples = pd.read_csv(path, usecols=["case", "process", "kind", "ns_per_switch"])
    except FileNotFoundError:
        raise UsageError(
            f"{path} is missing; give a result folder made by `switchbench run`"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UsageError(
            f"{path} is not a readable CSV with columns case, process, kind and "
            f"ns_per_switch ({type(e).__name__}); the folder is damaged"
        ) from None
    samples = samples[samples["kind"].astype(str) == "timed"].copy()
    samples["case"] = samples["case"].astype(str)
    for column in ("process", "ns_per_switch"):
        values = pd.to_numeric(samples[column], errors="coerce")
        if not values.map(lambda v: math.isfinite(v) and v > 0).all():
            raise UsageError(
                f"{path}: column {column} holds a value that is not a positive finite "
                "number; the folder is damaged"
            )
        samples[column] = values
    return samples


def load_memory(folder: Path) -> pd.DataFrame:
    """The measured rows (ok, or stopped at the ceiling) of memory.csv, numbers checked;
    empty when the run has no memory step."""
    path = folder / "memory.csv"
    if not path.is_file():
        return pd.DataFrame()
    try:
        mem = pd.read_csv(path, keep_default_na=False, na_values=[""])
        mem = mem[mem["status"].isin(["ok", "ceiling"])].copy()
        for column in ("created", "rss_bytes_per_unit"):
            mem[column] = pd.to_numeric(mem[column], errors="coerce")
    except (OSError, UnicodeDecodeError, ValueError, KeyError) as e:
        raise UsageError(f"{path} is damaged ({type(e).__name__}); rerun the memory step") from None
    return mem.dropna(subset=["created", "rss_bytes_per_unit"])


def memory_curve(mem: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One kind's rows ("goroutine" or "thread") by count parked; threads under the
    8 MiB `ulimit -s` where that was measured, the usual default."""
    if mem.empty:
        return mem
    rows = mem[mem["kind"] == kind]
    if kind == "thread" and (rows["ulimit_s"] == "8MiB").any():
        rows = rows[rows["ulimit_s"] == "8MiB"]
    return rows.sort_values("created")
