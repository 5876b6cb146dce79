"""Whole profiles run back to back → the suite benchmarked (self.md, self.csv).

The suite benchmarked: `switchbench selfbench` (`make bench-self`).

Not a test, since wall times depend on the machine: it runs whole profiles as a
user would, back to back, and writes into one folder what they cost and what
they reached:

- self.csv: per profile run, its wall time against the profile's target, and the
  CI half-widths its cases reached (how many met the sampling target);
- self_cases.csv: per profile run and case, wall time, CI half-width, why it stopped;
- gotest.csv: the suite's Go figures beside `go test -bench`, in interleaved rounds;
- default-vs-default-2/: the two default runs compared (how many cases agree);
- self.md: all of it for people.
"""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyperf

from bench.analysis import mood_compare
from bench.analysis.comparison import load_runs
from bench.analysis.stats import AGREE_WITHIN
from bench.catalogue import profiles
from bench.catalogue.cases import get_case
from bench.errors import UsageError
from bench.measure import runner
from bench.native.build import build, source_root
from bench.render import compare
from bench.render.fmt import code, md, ns
from bench.results import read
from bench.results.schema import COMPARE_CSV

# What each profile should take on a 2-CPU machine, at most (seconds); None: no target.
PROFILE_TARGET_S = {"smoke": None, "quick": 60.0, "default": 360.0, "full": None}
# `go test -bench` sub-benchmarks (go/switching/bench_test.go) and the suite's cases
# that run the same body.
GO_TEST_CASES = {
    "BenchmarkChanPingPong/p1": "go.chan.p1",
    "BenchmarkChanBuf1PingPong/p1": "go.chanbuf1.p1",
    "BenchmarkCondPingPong/p1": "go.cond.p1",
    "BenchmarkGosched/p1": "go.gosched.p1",
}
# Interleaved rounds of the suite and go test -bench (see go_test_agreement).
GO_TEST_ROUNDS = 10


def _run_profile(profile: str, out: Path) -> float:
    """`switchbench run` of one profile into out, as a user runs it; its wall seconds."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--profile", profile, "--out", str(out)],
        check=False,
    )
    if done.returncode != 0:
        raise UsageError(f"the {profile} run into {out} failed (status {done.returncode})")
    return time.monotonic() - started


def _go_test_rows(stdout: str) -> list[dict]:
    rows = []
    # e.g. "BenchmarkChanPingPong/p1-2   1000000   245.1 ns/op   122.5 ns/switch"
    pattern = re.compile(r"^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+.*?([\d.]+) ns/switch")
    for line in stdout.splitlines():
        found = pattern.match(line)
        if found and found.group(1) in GO_TEST_CASES:
            rows.append(
                {
                    "benchmark": found.group(1),
                    "case": GO_TEST_CASES[found.group(1)],
                    "ns_per_switch": float(found.group(2)),
                }
            )
    return rows


def build_go_test(out: Path) -> Path:
    """`go test -c`: the benchmarks' test binary, built once, so that every round runs
    the same binary and no round pays for (or waits on) the go tool."""
    binary = out / "switching.test"
    done = subprocess.run(
        ["go", "test", "-c", "-o", str(binary), "./switching/"],
        cwd=source_root() / "go",
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise UsageError(f"go test -c failed: {(done.stderr or done.stdout).strip()[-300:]}")
    return binary


def go_test_bench(binary: Path, count: int, benchtime: str = "200ms") -> list[dict]:
    """ns/switch of the matching `go test -bench` sub-benchmarks, one row per result."""
    names = "|".join(
        sorted({name.split("/")[0].removeprefix("Benchmark") for name in GO_TEST_CASES})
    )
    argv = [
        str(binary), "-test.run", "^$", "-test.bench", f"^Benchmark({names})$/^p1$",
        "-test.count", str(count), "-test.benchtime", benchtime,
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise UsageError(f"go test -bench failed: {(done.stderr or done.stdout).strip()[-300:]}")
    return _go_test_rows(done.stdout)


def suite_go_cases(raw_dir: Path) -> list[dict]:
    """The suite's figures for the cases go test also runs: one batch each of the
    default profile's sampling, as bench.measure.runner takes it, values in ns per switch."""
    profile = profiles.PROFILES["default"]
    artifacts = build({"go"})
    raw_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for case_id in GO_TEST_CASES.values():
        outcome = runner.run_case(get_case(case_id), profile, artifacts, raw_dir, adaptive=False)
        if outcome.status != "ok" or outcome.raw_json is None:
            raise UsageError(f"the suite's {case_id} failed: {outcome.reason}")
        values = pyperf.Benchmark.load(str(outcome.raw_json)).get_values()
        rows += [{"case": case_id, "ns_per_switch": v * 1e9} for v in values]
    return rows


def go_test_agreement(
    out: Path, rounds: int, go_count: int, benchtime: str = "200ms"
) -> pd.DataFrame:
    """The suite against `go test -bench`, interleaved: in each round both measure the
    same four cases back to back, in a random order. The machine drifts over minutes
    (a shared VM's vCPU may share its core with a neighbour one minute and not the
    next), so figures taken at different
    times would compare the machine's moods, not the two tools; each round's ratio
    compares like with like, and the median over rounds is the verdict."""
    binary = build_go_test(out)
    order = random.Random(0)
    rows = []
    for i in range(rounds):
        print(f"selfbench: suite and go test -bench, round {i + 1} of {rounds}", file=sys.stderr)
        tools = ["suite", "go test"]
        order.shuffle(tools)
        figures: dict[str, pd.DataFrame] = {}
        for tool in tools:
            measured = (
                suite_go_cases(out / "gotest-rounds" / f"round-{i + 1}")
                if tool == "suite"
                else go_test_bench(binary, go_count, benchtime)
            )
            figures[tool] = pd.DataFrame(measured).groupby("case")["ns_per_switch"].median()
        for case in GO_TEST_CASES.values():
            if case in figures["suite"] and case in figures["go test"]:
                suite_ns, go_ns = figures["suite"][case], figures["go test"][case]
                rows.append(
                    {
                        "round": i + 1,
                        "first": tools[0],
                        "case": case,
                        "suite_ns": suite_ns,
                        "gotest_ns": go_ns,
                        "ratio": suite_ns / go_ns,
                    }
                )
    return pd.DataFrame(rows, columns=["round", "first", "case", "suite_ns", "gotest_ns", "ratio"])


def profile_rows(label: str, profile: str, run_dir: Path, wall_s: float) -> tuple[dict, list]:
    summary = read.load_summary(run_dir)
    run = read.load_run(run_dir)
    target = (run.get("profile_settings") or {}).get("cases", {}).get("target_ci", math.nan)
    ok = summary[summary["status"] == "ok"]
    half = pd.to_numeric(ok["ci_half_width"], errors="coerce")
    limit = PROFILE_TARGET_S.get(profile)
    row = {
        "run": label,
        "profile": profile,
        "wall_s": round(wall_s, 1),
        "target_s": limit,
        "within_target": None if limit is None else wall_s <= limit,
        "cases_ok": len(ok),
        "cases_at_ci_target": int((half <= target).sum()),
        "ci_target": target,
        "median_ci_half_width": float(half.median()) if len(half) else math.nan,
        "max_ci_half_width": float(half.max()) if len(half) else math.nan,
    }
    cases = [
        {
            "run": label,
            "case": case_id,
            "status": record.get("status"),
            "wall_s": record.get("wall_s"),
            "ci_half_width": record.get("ci_half_width"),
            "stop": record.get("stop"),
        }
        for case_id, record in (run.get("cases") or {}).items()
    ]
    return row, cases


def _agreement(a: Path, b: Path, out: Path) -> dict[str, Any]:
    """How many cases of two runs agree: CIs that overlap, and compare's verdict."""
    compare.write_comparison([a, b], out)
    table = pd.read_csv(out / COMPARE_CSV)
    first = table[(table["run"] == 0) & (table["status"] == "ok")].set_index("case")
    second = table[(table["run"] == 1) & (table["status"] == "ok")].set_index("case")
    both = first.index.intersection(second.index)
    overlap = (first.loc[both, "ci_low"] <= second.loc[both, "ci_high"]) & (
        second.loc[both, "ci_low"] <= first.loc[both, "ci_high"]
    )
    significant = second.loc[both, "significant"].astype(str) == "True"
    # The same two runs at one canary level (bench.analysis.mood_compare): how many cases
    # each band calls the same, raw and at one level, and the narrowest band that calls
    # SUPPORTED_SHARE of them the same; over every case, and over the cases on one CPU
    # (the ones set at one level).
    ratios = mood_compare.headline_ratios(load_runs([a, b]), table)
    agree: dict[str, Any] = {
        "cases": len(both),
        "cis_overlap": int(overlap.sum()),
        "not_significant": int((~significant).sum()),
        "canary_slope": ratios.attrs.get("beta") if not ratios.empty else None,
    }
    subsets = {"all": ratios}
    if not ratios.empty:
        subsets["one_cpu"] = ratios[ratios["adjusted"]]
    for name, subset in subsets.items():
        by_band = mood_compare.agreement_by_band(subset) if not subset.empty else pd.DataFrame()
        agree[f"bands_{name}"] = {
            "cases": len(subset),
            "by_band": by_band.to_dict(orient="records"),
            "supported_raw": _band(by_band, "raw"),
            "supported_at_one_level": _band(by_band, "headline"),
        }
    return agree


def _band(by_band: pd.DataFrame, column: str) -> float | None:
    band = mood_compare.supported_band(by_band, column) if not by_band.empty else math.nan
    return None if math.isnan(band) else band


def default_pair_lines(a: str, b: str, agree: dict[str, Any]) -> list[str]:
    """self.md's section on the two default runs back to back."""
    return [
        f"## Two default runs back to back ({md(a)}, {md(b)})",
        "",
        f"Of {agree['cases']} cases measured in both, the 95% CIs of "
        f"{agree['cis_overlap']} overlap, and `switchbench compare` calls "
        f"{agree['not_significant']} not significantly different "
        f"(details: {md(a)}-vs-{md(b)}/compare.md).",
        "",
        *band_lines(agree),
    ]


def band_lines(agree: dict[str, Any]) -> list[str]:
    """self.md's lines on the bands two default runs support, raw and at one level."""
    lines: list[str] = []
    slope = agree.get("canary_slope")
    titles = {"all": "every case", "one_cpu": "the cases on one CPU (set at one level)"}
    for name, title in titles.items():
        bands = agree.get(f"bands_{name}") or {}
        rows = bands.get("by_band") or []
        if not rows:
            continue
        shown = {
            k: "none of them" if bands.get(k) is None else f"±{bands[k]:.0%}"
            for k in ("supported_raw", "supported_at_one_level")
        }
        lines += [
            f"Cases called the same at each noise band, {title}: {bands['cases']}, by the "
            "raw medians and at one canary level (README: *How noisy was this machine*; "
            f"the machine's canary slope {slope:.2f}):"
            if slope is not None
            else f"Cases called the same at each noise band, {title}: {bands['cases']}:",
            "",
            "| band | raw | at one level |",
            "|---|---:|---:|",
            *(f"| ±{r['band']:.0%} | {r['raw']} | {r['headline']} |" for r in rows),
            "",
            f"The narrowest band that calls at least {mood_compare.SUPPORTED_SHARE:.0%} of "
            f"them the same: {shown['supported_raw']} raw, "
            f"{shown['supported_at_one_level']} at one level.",
            "",
        ]
    return lines


def gotest_lines(paired: pd.DataFrame, go_count: int) -> list[str]:
    """self.md's section on the suite against go test -bench."""
    if paired.empty:
        return []
    per_case = paired.groupby("case").agg(
        suite_ns=("suite_ns", "median"),
        gotest_ns=("gotest_ns", "median"),
        ratio=("ratio", "median"),
        ratio_low=("ratio", "min"),
        ratio_high=("ratio", "max"),
        rounds=("round", "nunique"),
    )
    agree = int((abs(per_case["ratio"] - 1) <= AGREE_WITHIN).sum())
    rounds = int(paired["round"].nunique())
    lines = [
        "## The suite's Go figures against `go test -bench`",
        "",
        f"{agree} of {len(per_case)} agree within ±{AGREE_WITHIN:.0%}. Measured in "
        f"{rounds} interleaved rounds: in each, the suite (one batch of the default "
        f"profile's sampling) and the test binary (`-count {go_count}`) ran the same "
        "cases back to back in a random order; *suite ÷ go test* is the median of the "
        "rounds' ratios, with the lowest and highest round beside it.",
        "",
        "| case | suite | go test | suite ÷ go test | rounds' range |",
        "|---|---:|---:|---:|---:|",
    ]
    for case, r in per_case.iterrows():
        lines.append(
            f"| {code(case)} | {ns(r['suite_ns'])} | {ns(r['gotest_ns'])} "
            f"| {r['ratio']:.2f} | {r['ratio_low']:.2f}–{r['ratio_high']:.2f} |"
        )
    lines.append("")
    return lines


def selfbench(
    out: Path, profiles: list[str], go_rounds: int = GO_TEST_ROUNDS, go_count: int = 3
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    rows, case_rows, run_dirs = [], [], {}
    seen: dict[str, int] = {}
    for profile in profiles:
        seen[profile] = seen.get(profile, 0) + 1
        label = profile if seen[profile] == 1 else f"{profile}-{seen[profile]}"
        run_dir = out / label
        print(f"selfbench: profile {profile} into {run_dir}", file=sys.stderr)
        wall = _run_profile(profile, run_dir)
        run_dirs[label] = run_dir
        row, cases = profile_rows(label, profile, run_dir, wall)
        rows.append(row)
        case_rows += cases
    pd.DataFrame(rows).to_csv(out / "self.csv", index=False)
    pd.DataFrame(case_rows).to_csv(out / "self_cases.csv", index=False)

    lines = ["# switchbench measured: profiles, precision, agreement", ""]
    lines += [
        "| run | wall | target | cases | at CI target | median CI ± | widest CI ± |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        target = "—" if r["target_s"] is None else f"≤ {r['target_s']:.0f} s"
        verdict = "" if r["within_target"] is None else (" ✓" if r["within_target"] else " ✗")
        lines.append(
            f"| {md(r['run'])} | {r['wall_s']:.0f} s{verdict} | {target} | {r['cases_ok']} "
            f"| {r['cases_at_ci_target']} (±{r['ci_target']:.0%}) "
            f"| {r['median_ci_half_width']:.1%} | {r['max_ci_half_width']:.1%} |"
        )
    lines.append("")

    defaults = [label for label, d in run_dirs.items() if label.startswith("default")]
    if len(defaults) >= 2:
        a, b = defaults[:2]
        agree = _agreement(run_dirs[a], run_dirs[b], out / f"{a}-vs-{b}")
        (out / "agreement.json").write_text(json.dumps(agree, indent=2) + "\n")
        lines += default_pair_lines(a, b, agree)

    if go_rounds > 0:
        print("selfbench: the suite against go test -bench, interleaved", file=sys.stderr)
        paired = go_test_agreement(out, go_rounds, go_count)
        paired.to_csv(out / "gotest.csv", index=False)
        lines += gotest_lines(paired, go_count)
    (out / "self.md").write_text("\n".join(lines))
    return out / "self.md"
