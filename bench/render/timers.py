"""leaks.csv's Go version and GODEBUG → the timer semantics each ticker scenario ran, in words.

Whether an unstopped time.Ticker is collected depends on the release and on GODEBUG
asynctimerchan, whose default the main module's go.mod `go` line picks: Go 1.23 made
timer channels synchronous and let the collector free unreferenced timers
(asynctimerchan=0); a module that says `go 1.22` keeps the old timers on a newer
release (asynctimerchan=1); a release before 1.23 has the old timers only and no
such setting, whatever the scenario asked for. The driver reports what GODEBUG said,
so the release is needed to read it.
"""

from __future__ import annotations

import pandas as pd

from bench.native.toolchains import release_key
from bench.render.fmt import md, missing

TICKER_SCENARIOS = ("ticker", "ticker-go123")
# What each ticker scenario asks of GODEBUG (go/leaks: "" leaves the module's default).
ASKED = {"ticker": "", "ticker-go123": "asynctimerchan=0"}
OLD = "timers before Go 1.23 (asynchronous timer channels; the runtime keeps an unstopped ticker)"
NEW = "Go 1.23's timers (synchronous timer channels; an unreferenced ticker can be collected)"


def semantics(go_version: str, godebug: str) -> str:
    """The timer semantics a program of this release ran under this GODEBUG value."""
    key = release_key(go_version)
    if key is not None and key < (1, 23, 0, 0, 0):
        return f"{OLD}: {go_version} has no asynctimerchan setting"
    if godebug == "asynctimerchan=1":
        return f"{OLD}, by asynctimerchan=1"
    if godebug == "asynctimerchan=0":
        return f"{NEW}, by asynctimerchan=0"
    return f"as {godebug or 'the release'} sets them"


def section_lines(leaks: pd.DataFrame | None) -> list[str]:
    """One line per ticker scenario: the semantics it ran under this folder's release;
    [] when no row names the release."""
    if leaks is None or "go_version" not in leaks.columns:
        return []
    versions = [str(v) for v in leaks["go_version"].tolist() if not missing(v) and str(v)]
    if not versions:
        return []
    release = versions[0]
    out = []
    for scenario in TICKER_SCENARIOS:
        rows = leaks[leaks["scenario"] == scenario]
        if rows.empty:
            continue
        seen = [str(g) for g in rows["godebug"].tolist() if not missing(g) and str(g)]
        # A failed row reports no GODEBUG: the setting asked for is what it would have run.
        godebug = seen[0] if seen else ASKED[scenario]
        if not godebug and (release_key(release) or (0,)) >= (1, 23, 0, 0, 0):
            continue  # the module's default, unknown without a run's report of it
        measured = "" if seen else " (not measured)"
        out.append(f"- {md(scenario)}{measured}: {md(semantics(release, godebug))}.")
    if out:
        out = [f"Timer semantics under {md(release)}:", "", *out, ""]
    return out
