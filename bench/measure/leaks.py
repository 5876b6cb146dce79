"""Goroutine leaks: what one leaked goroutine (or object) costs, and which of
the ways users look for leaks find it.

Every scenario of go/leaks runs in a leaking and a fixed version, each in a
process of its own (`switchdriver -leaks NAME -leak-version V -k K`): a
goroutine blocked on a nil channel can never be released, so nothing is
shared between runs. The driver calls the scenario K times, collects, and
reports goroutines and objects left, their growth per call, the heap and
stack they hold, and what three detectors said: a runtime.NumGoroutine
growth test, the goroutine profile of runtime/pprof, and the runtime's own
goroutineleak profile. The last needs a driver built with
GOEXPERIMENT=goroutineleakprofile (bench/native/build.py builds one where the Go
release allows); where there is none, the profile is recorded as
unavailable, with the reason, never as "not caught".
"""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bench.native.build import Artifacts
from bench.render.fmt import kib, md, missing, num, number
from bench.results.schema import LEAK_COLUMNS, LEAKS_CSV
from bench.results.write import write_csv

SCENARIOS = ("sender", "receiver", "nilchan", "ticker", "ticker-go123", "finalizer-cycle")
VERSIONS = ("leaking", "fixed")
DEFAULT_K = 1000
TIMEOUT_S = 120
PROFILE_FOLDER = "leaks"  # inside the result folder: the .pb.gz profiles

# The detectors' rules, as go/leaks applies them.
NUMGOROUTINE_THRESHOLD = 0.5  # goroutines per call: halfway between one leak per call and none

DESCRIPTIONS = {
    "sender": "a generator's goroutine blocked sending on an unbuffered channel after its "
    "consumer broke out of `range`; fixed with a done channel the consumer closes",
    "receiver": "a worker ranging over a jobs channel that nobody sends to or closes; "
    "fixed by closing it",
    "nilchan": "a goroutine sending on a channel that was never made (nil): it blocks for "
    "ever and can never be released; fixed with a real (buffered) channel",
    "ticker": "a `time.Ticker` never stopped, under the timer semantics this module gets "
    "by default (go.mod's go line sets GODEBUG asynctimerchan); fixed with `Stop`. "
    "No goroutine is involved: what leaks is the ticker",
    "ticker-go123": "the same ticker under Go 1.23's timer semantics (asynctimerchan=0, the "
    "default for a module whose go.mod says go 1.23 or newer)",
    "finalizer-cycle": "`runtime.SetFinalizer` on an object in a reference cycle holding a "
    "64 KiB payload: the cycle is never freed; fixed with `runtime.AddCleanup`",
}


def _value(x: object) -> object:
    """A JSON value for a CSV cell: null becomes empty (NaN), never 0."""
    return math.nan if x is None else x


def _run(driver: Path, scenario: str, version: str, k: int, profile_dir: Path) -> dict:
    argv = [
        str(driver),
        "-leaks",
        scenario,
        "-leak-version",
        version,
        "-k",
        str(k),
        "-profile-dir",
        str(profile_dir),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else None
    if isinstance(result, dict) and result.get("error"):
        raise RuntimeError(str(result["error"]))
    if done.returncode != 0 or not isinstance(result, dict):
        said = done.stderr.strip().splitlines()
        raise RuntimeError(said[-1] if said else f"exit status {done.returncode}")
    return result


def _row(scenario: str, version: str, k: int) -> dict:
    row = dict.fromkeys(LEAK_COLUMNS, math.nan)
    row.update(scenario=scenario, version=version, k=k, status="failed", reason="")
    row.update(caught_by_goroutineleak=None, goroutineleak_reason="")
    return row


def _fill(row: dict, r: dict) -> None:
    d = r["detection"]
    top = (r.get("top_stacks") or [{}])[0]
    profile = d["pprof"].get("profile")
    row.update(
        go_version=r["go_version"],
        unit=r["unit"],
        godebug=r["godebug"],
        goroutines_left=r["goroutines_left"],
        leaked_goroutines_per_iter=r["leaked_goroutines_per_iter"],
        leaked_per_iter=r["leaked_per_iter"],
        slope_per_iter=r["slope"],
        numgoroutine_slope=r["goroutine_slope"],
        heap_bytes_per_leak=_value(r["heap_bytes_per_leak"]),
        stack_bytes_per_leak=_value(r["stack_bytes_per_leak"]),
        retained_objects=_value(r["retained_objects"]),
        callbacks_run=_value(r["callbacks_run"]),
        caught_by_numgoroutine=bool(d["numgoroutine"]["caught"]),
        caught_by_pprof=bool(d["pprof"]["caught"]),
        top_stack=top.get("summary", ""),
        top_stack_count=_value(top.get("count")),
        goroutine_profile=f"{PROFILE_FOLDER}/{profile}" if profile else "",
        elapsed_ns=r["elapsed_ns"],
        status="ok",
    )


def _leak_profile(
    row: dict, driver: Path, scenario: str, version: str, k: int, profile_dir: Path
) -> None:
    """Run the scenario again in the experiment's driver, for its goroutineleak
    profile alone; the other figures come from the ordinary build."""
    with tempfile.TemporaryDirectory(dir=profile_dir, prefix=".goroutineleak-") as tmp:
        try:
            r = _run(driver, scenario, version, k, Path(tmp))
        except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as e:
            row["goroutineleak_reason"] = f"the goroutineleak-profile run failed: {e}"
            return
        m = r["detection"]["goroutineleak"]
        if not m.get("available"):
            row["goroutineleak_reason"] = m.get("reason") or "unavailable"
            return
        row["caught_by_goroutineleak"] = bool(m["caught"])
        row["goroutineleak_count"] = _value(m.get("value"))
        name = m.get("profile")
        if name:
            (Path(tmp) / name).replace(profile_dir / name)
            row["goroutineleak_profile"] = f"{PROFILE_FOLDER}/{name}"


def measure(
    artifacts: Artifacts,
    out_dir: Path,
    k: int = DEFAULT_K,
    progress: Callable[[str], None] = lambda s: None,
) -> pd.DataFrame:
    """Every scenario in both versions; writes out_dir/leaks.csv and the profiles
    into out_dir/leaks/. A scenario that fails is a row with its reason."""
    profile_dir = out_dir / PROFILE_FOLDER
    profile_dir.mkdir(parents=True, exist_ok=True)
    unavailable = artifacts.leak_driver_unavailable()
    rows = []
    for scenario in SCENARIOS:
        for version in VERSIONS:
            progress(f"leaks: {scenario} ({version}), k={k}")
            row = _row(scenario, version, k)
            try:
                _fill(row, _run(artifacts.go_driver, scenario, version, k, profile_dir))
            except (RuntimeError, ValueError, KeyError, OSError, subprocess.TimeoutExpired) as e:
                row["reason"] = f"{type(e).__name__}: {e}"
                rows.append(row)
                continue
            if unavailable or artifacts.go_leak_driver is None:
                row["goroutineleak_reason"] = unavailable
            else:
                _leak_profile(row, artifacts.go_leak_driver, scenario, version, k, profile_dir)
            rows.append(row)
    frame = pd.DataFrame(rows, columns=LEAK_COLUMNS)
    write_csv(frame, out_dir / LEAKS_CSV)
    return frame


def _caught(value: object) -> str:
    text = str(value).strip().lower()
    if text in {"true", "1", "1.0"}:
        return "caught"
    if text in {"false", "0", "0.0"}:
        return "not caught"
    return "unavailable"


def _per_call(value: object, unit: object) -> str:
    x = number(value)
    if missing(x):
        return "—"
    noun = "goroutine" if unit == "goroutine" else "object"
    return f"{num(x)} {noun}{'' if x == 1 else 's'}"


def _scenario_table(rows: pd.DataFrame) -> list[str]:
    lines = [
        "| version | left per call | growth per call | heap per leak | stack per leak "
        "| NumGoroutine | goroutine profile | goroutineleak profile | top stack |",
        "|---|---:|---:|---:|---:|---|---|---|---|",
    ]
    for _, row in rows.iterrows():
        if row["status"] != "ok":
            lines.append(f"| {md(row['version'])} | failed: {md(row['reason'])} | | | | | | | |")
            continue
        lines.append(
            f"| {md(row['version'])} | {_per_call(row['leaked_per_iter'], row['unit'])} "
            f"| {num(number(row['slope_per_iter']))} "
            f"| {kib(number(row['heap_bytes_per_leak']))} "
            f"| {kib(number(row['stack_bytes_per_leak']))} "
            f"| {_caught(row['caught_by_numgoroutine'])} | {_caught(row['caught_by_pprof'])} "
            f"| {_caught(row['caught_by_goroutineleak'])} "
            f"| {md(row['top_stack']) if not missing(row['top_stack']) else 'none blocked'} |"
        )
    return lines


def _ticker_lines(leaks: pd.DataFrame) -> list[str]:
    """What was seen of unstopped tickers, in words, from the rows."""
    out = []
    for scenario in ("ticker", "ticker-go123"):
        row = leaks[
            (leaks["scenario"] == scenario)
            & (leaks["version"] == "leaking")
            & (leaks["status"] == "ok")
        ]
        if row.empty:
            continue
        r = row.iloc[0]
        retained, k = number(r["retained_objects"]), number(r["k"])
        if missing(retained) or missing(k):
            continue
        # Each clause counts the tickers it speaks of: those still alive, and the rest,
        # which the collector freed.
        alive = (
            f"{retained:,.0f} of {k:,.0f} unstopped tickers were still alive after "
            "runtime.GC(), though the program held no reference to them: the runtime's "
            "timers kept them"
        )
        freed = k - retained
        if retained <= 0:
            said = f"{freed:,.0f} of {k:,.0f} unstopped tickers were freed by the collector"
        elif freed > 0:
            said = f"{alive}; the other {freed:,.0f} were freed by the collector"
        else:
            said = alive
        out.append(f"- {md(r['godebug'])} ({md(r['go_version'])}): {said}.")
    if out:
        out = ["Unstopped tickers, observed:", "", *out, ""]
    return out


def section_lines(leaks: pd.DataFrame | None) -> list[str]:
    """The report's "Goroutine leaks" section from leaks.csv as bench.results.read reads it
    (text cells, NaN where empty); [] when the folder has no leaks.csv."""
    if leaks is None:
        return []
    leaks = leaks.copy()
    for column in LEAK_COLUMNS:
        if column not in leaks.columns:
            leaks[column] = math.nan
    ok = leaks[leaks["status"] == "ok"]
    versions = ", ".join(md(v) for v in ok["go_version"].dropna().unique()) or "—"
    ks = ", ".join(f"{x:,.0f}" for x in dict.fromkeys(number(v) for v in ok["k"]) if not missing(x))
    lines = [
        "## Goroutine leaks",
        "",
        "Each scenario below was called K times in a leaking and in a fixed version, "
        "each version in a process of its own, then the heap was collected. *Left per "
        "call* is what stayed behind (goroutines, or objects where no goroutine is "
        "involved) divided by K; *growth per call* is the least-squares slope of that "
        "count over checkpoints at K/4, K/2, 3K/4 and K; *heap* and *stack per leak* are "
        "the live heap and goroutine stacks gained, per thing left behind. A fixed "
        "version must show no growth.",
        "",
        f"Go: {versions}; K = {ks or '—'}.",
        "",
        "Caught by: *NumGoroutine*, when runtime.NumGoroutine grows by more than "
        f"{NUMGOROUTINE_THRESHOLD} per call; *goroutine profile*, when one stack of "
        '`pprof.Lookup("goroutine")` holds at least K/2 goroutines; *goroutineleak '
        "profile*, when the runtime's own leak detector (Go 1.26, "
        "GOEXPERIMENT=goroutineleakprofile: writing the profile runs a collection that "
        "finds goroutines blocked on channels no runnable goroutine can reach) reports at "
        "least K/2. *unavailable* means the method could not be tried here, not that it "
        "missed.",
        "",
    ]
    for reason in ok["goroutineleak_reason"].dropna().unique():
        if str(reason).strip():
            lines += [f"goroutineleak profile unavailable: {md(reason)}", ""]
    for scenario in dict.fromkeys(leaks["scenario"].tolist()):
        rows = leaks[leaks["scenario"] == scenario]
        lines += [f"### {md(scenario)}", ""]
        if scenario in DESCRIPTIONS:
            lines += [DESCRIPTIONS[scenario][0].upper() + DESCRIPTIONS[scenario][1:] + ".", ""]
        lines += [*_scenario_table(rows), ""]
    lines += _ticker_lines(leaks)
    profiles = [
        p
        for column in ("goroutine_profile", "goroutineleak_profile")
        for p in leaks[column].dropna().tolist()
        if str(p).strip()
    ]
    example = md(profiles[0]) if profiles else "leaks/goroutine-SCENARIO-VERSION.pb.gz"
    lines += [
        "Every run's goroutine profile (and, where available, its goroutineleak profile) is "
        f"saved beside this report in {md(PROFILE_FOLDER)}/ as gzipped protobuf. To see where "
        "the goroutines wait, run `go tool pprof -top FILE` on one, for instance FILE = "
        f"{example} (`-traces` prints every stack with its count; `-http=:8080` opens the "
        "graph in a browser).",
        "",
    ]
    return lines
