"""leaks.csv → the claims on goroutine, ticker and finalizer leaks, and on finding them."""

from __future__ import annotations

import math

import pandas as pd

from bench.analysis.claims_base import (
    DOES_NOT_HOLD,
    HOLDS,
    QUALIFIED,
    Claim,
    not_measured,
    number,
)

CHANNEL_SCENARIOS = {"sender": "send", "receiver": "receive", "nilchan": "nil channel"}
# The leaks step's ticker scenarios and the timer semantics each runs under.
TICKERS = {"ticker": "asynctimerchan=1", "ticker-go123": "asynctimerchan=0"}
FINALIZER = "finalizer-cycle"
DETECTORS = {"caught_by_numgoroutine": "NumGoroutine", "caught_by_pprof": "pprof"}
# "Leaks" for an object: one retained per iteration (leaked_per_iter rounds to 1 or more).
LEAKS_PER_ITER = 0.5


def _row(leaks: pd.DataFrame | None, scenario: str, version: str) -> pd.Series | None:
    if leaks is None or leaks.empty:
        return None
    rows = leaks[
        (leaks["scenario"] == scenario) & (leaks["version"] == version) & (leaks["status"] == "ok")
    ]
    return None if rows.empty else rows.iloc[0]


def channel_leaks(leaks: pd.DataFrame | None) -> Claim:
    claim = (
        "A goroutine blocked on a channel that no one will serve is never collected "
        "(send, receive, nil channel)."
    )
    rule = (
        "Holds if in each scenario the leaking version's K goroutines are all still there "
        "after garbage collection (leaks.csv goroutines_left ≥ K) and the fixed version "
        "leaves none; with a qualification if some scenarios did not run; does not hold if "
        "any was collected."
    )
    sources = ("leaks.csv",)
    seen, parts, collected = [], [], []
    for scenario, words in CHANNEL_SCENARIOS.items():
        row = _row(leaks, scenario, "leaking")
        if row is None:
            continue
        seen.append(words)
        left, k = number(row["goroutines_left"]), number(row["k"])
        parts.append(f"{words}: {left:,.0f} of {k:,.0f} left")
        fixed = _row(leaks, scenario, "fixed")
        if math.isnan(left) or left < k or (fixed is not None and number(fixed["goroutines_left"])):
            collected.append(words)
    if not seen:
        return not_measured(claim, rule, "the run has no channel-leak scenarios", sources)
    figure = "; ".join(parts)
    if collected:
        why = f"not all left, or the fixed version leaked too: {', '.join(collected)}"
        return Claim(claim, figure, DOES_NOT_HOLD, why, rule, sources)
    missing = [w for w in CHANNEL_SCENARIOS.values() if w not in seen]
    if missing:
        return Claim(claim, figure, QUALIFIED, f"not measured: {', '.join(missing)}", rule, sources)
    return Claim(claim, figure, HOLDS, "", rule, sources)


def ticker_leaks(leaks: pd.DataFrame | None) -> Claim:
    claim = "An unstopped Ticker leaks (it depends on the timer semantics in effect)."
    rule = (
        "A ticker leaks under a timer semantics if the leaking version retains one object "
        f"per iteration (leaks.csv leaked_per_iter ≥ {LEAKS_PER_ITER:g}, so rounding to 1). "
        "Holds if it "
        "leaks under every semantics that ran; with a qualification (which) if under some "
        "only; does not hold if under none."
    )
    sources = ("leaks.csv",)
    leaking, kept = [], []
    for scenario, semantics in TICKERS.items():
        row = _row(leaks, scenario, "leaking")
        if row is None:
            continue
        per_iter = number(row["leaked_per_iter"])
        godebug = str(row.get("godebug") or semantics)
        (leaking if per_iter >= LEAKS_PER_ITER else kept).append(godebug)
    if not leaking and not kept:
        return not_measured(claim, rule, "the run has no ticker scenarios", sources)
    figure = "; ".join(
        [f"leaks under {g}" for g in leaking] + [f"collected under {g}" for g in kept]
    )
    if leaking and kept:
        why = f"only under {', '.join(leaking)}; under {', '.join(kept)} it is collected"
        return Claim(claim, figure, QUALIFIED, why, rule, sources)
    if leaking:
        if len(leaking) < len(TICKERS):
            why = f"measured under {', '.join(leaking)} only"
            return Claim(claim, figure, QUALIFIED, why, rule, sources)
        return Claim(claim, figure, HOLDS, "", rule, sources)
    return Claim(claim, figure, DOES_NOT_HOLD, "collected under every semantics run", rule, sources)


def finalizer_leaks(leaks: pd.DataFrame | None) -> Claim:
    claim = "Finalizers on cycles leak."
    rule = (
        "Holds if the cycle with finalizers retains one object per iteration "
        f"(leaked_per_iter ≥ {LEAKS_PER_ITER:g}) with none of its finalizers run, while the "
        "fixed version's "
        "finalizers ran; does not hold if the cycle was collected."
    )
    sources = ("leaks.csv",)
    row = _row(leaks, FINALIZER, "leaking")
    if row is None:
        return not_measured(claim, rule, "the run has no finalizer-cycle scenario", sources)
    per_iter, ran, k = (number(row[c]) for c in ("leaked_per_iter", "callbacks_run", "k"))
    figure = f"{per_iter:g} retained per iteration, {ran:,.0f} of {k:,.0f} finalizers run"
    fixed = _row(leaks, FINALIZER, "fixed")
    if per_iter < LEAKS_PER_ITER or math.isnan(per_iter):
        return Claim(claim, figure, DOES_NOT_HOLD, "the cycles were collected", rule, sources)
    if fixed is None:
        why = "the fixed version (the control) did not run"
        return Claim(claim, figure, QUALIFIED, why, rule, sources)
    fixed_ran = number(fixed["callbacks_run"])
    figure += f" (fixed: {fixed_ran:,.0f} run)"
    if ran > 0 or not fixed_ran > 0:
        why = "finalizers ran in the leaking version, or not even in the fixed one"
        return Claim(claim, figure, QUALIFIED, why, rule, sources)
    return Claim(claim, figure, HOLDS, "", rule, sources)


def detection(leaks: pd.DataFrame | None) -> Claim:
    claim = "NumGoroutine and pprof find goroutine leaks."
    rule = (
        "Holds if both flag every leaking goroutine scenario and none of the fixed ones "
        "(leaks.csv caught_by_numgoroutine, caught_by_pprof); with a qualification where "
        "they miss leaks of objects (tickers, finalizer cycles), which are no goroutines; "
        "does not hold if either misses a goroutine leak or flags a fixed version."
    )
    sources = ("leaks.csv",)
    if leaks is None or leaks.empty:
        return not_measured(claim, rule, "the run has no leak scenarios (leaks.csv)", sources)
    ok = leaks[leaks["status"] == "ok"]
    goroutine = ok[ok["unit"] == "goroutine"]
    if goroutine.empty:
        return not_measured(claim, rule, "no goroutine-leak scenario ran", sources)
    leaking, fixed = (
        goroutine[goroutine["version"] == "leaking"],
        goroutine[goroutine["version"] == "fixed"],
    )
    parts, failures = [], []
    for column, name in DETECTORS.items():
        caught = int((leaking[column].astype(str) == "True").sum())
        false = int((fixed[column].astype(str) == "True").sum())
        parts.append(f"{name}: {caught} of {len(leaking)} leaks caught, {false} false alarms")
        if caught < len(leaking) or false:
            failures.append(name)
    figure = "; ".join(parts)
    if failures:
        why = f"{', '.join(failures)} missed a leak or flagged a fixed version"
        return Claim(claim, figure, DOES_NOT_HOLD, why, rule, sources)
    objects = ok[(ok["unit"] != "goroutine") & (ok["version"] == "leaking")]
    objects = objects[objects["leaked_per_iter"].map(number) >= LEAKS_PER_ITER]
    missed = objects[~(objects[list(DETECTORS)].astype(str) == "True").all(axis=1)]
    if not missed.empty:
        why = (
            f"they see goroutines only: {len(missed)} object leaks (tickers, finalizer "
            "cycles) went unflagged"
        )
        return Claim(claim, figure, QUALIFIED, why, rule, sources)
    return Claim(claim, figure, HOLDS, "", rule, sources)
