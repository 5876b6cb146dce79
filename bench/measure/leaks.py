"""The goroutine-leak scenarios → leaks.csv: what a leak costs and which detector catches it.

Goroutine leaks: what one leaked goroutine (or object) costs, and which of
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
