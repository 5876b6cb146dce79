"""End-to-end: the CLI as a user runs it, at the smoke profile."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyperf
import pytest

from bench.catalogue import cases
from bench.native.bridge import COUNTER_NAMES, case_skip_reason, probe_counters
from bench.results import schema
from tests.conftest import switchbench, typed_command


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, artifacts):
    out = tmp_path_factory.mktemp("run") / "smoke"
    done = switchbench("run", "--profile", "smoke", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out, done


def test_run_prints_the_folder_last(smoke_run):
    out, done = smoke_run
    assert done.stdout.strip().splitlines()[-1] == str(out)


def test_run_writes_every_file(smoke_run):
    out, _ = smoke_run
    for name in (
        "host.json",
        "run.json",
        "suite.json",
        "samples.csv",
        "summary.csv",
        "report.md",
        "ns_per_switch.png",
        "ns_per_switch.svg",
        "system.csv",
        "threads.csv",
        "system_ctxt.png",
        "memory.csv",
        "thread_stacks.csv",
        "stack_growth.csv",
        "memory.png",
        "report.html",
        "leaks.csv",
        "overhead.csv",
        "ladder.png",
    ):
        assert (out / name).is_file(), name
    # Every step of a whole run has its section in the report.
    text = (out / "report.md").read_text()
    assert text.split("\n## ")[1].startswith("The study note's claims")  # the first section
    for title in (
        "## The answer",
        "## The ladder",
        "## Precision",
        "## Harness overhead",
        "## Memory",
        "## Goroutine leaks",
        "## Counters per switch",
        "## Host",
    ):
        assert title in text, title
    host = json.loads((out / "host.json").read_text())
    for key in (
        "cpu_model",
        "logical_cpus",
        "kernel",
        "virtualisation",
        "ulimit_s",
        "versions",
        "schema_version",
        "smt",
        "mitigations",
        "clock",
    ):
        assert key in host
    assert host["clock"]["ghz"] > 0
    for tool in ("go", "gcc", "python", "pyperf"):
        assert host["versions"][tool]
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "complete"
    assert all(r["stop"] for r in run["cases"].values() if r["status"] == "ok")


def test_run_console_lines_are_whole_and_aligned(smoke_run):
    out, done = smoke_run
    lines = done.stderr.splitlines()
    selected = json.loads((out / "run.json").read_text())["selected"]
    # The first line says what runs and where, the folder on that line.
    assert lines[0].startswith(f"switchbench: measuring {len(selected)} of {len(selected)} cases")
    assert lines[0].endswith(f", into {out}")
    # One line per case, the status column aligned to the longest id.
    width = max(len(c) for c in selected)
    status = [line for line in lines if line.startswith("  ") and line.split()[0] in selected]
    assert len(status) == len(selected)
    assert all(line[2 + width : 4 + width] == "  " and line[4 + width] != " " for line in status)
    # Sentences are never broken across lines, whatever the terminal's width.
    overhead = next(line for line in lines if line.startswith("  overhead:"))
    assert overhead.endswith("loops each)")
    assert next(line for line in lines if line.startswith("  leaks:")).endswith("K=40")
    # The quiet phases after the measurements are announced before they start.
    writing = lines.index("switchbench: writing the summary and the report…")
    assert lines[writing + 1] == f"  {out / 'report.md'}, {out / 'report.html'}"


def test_leaks_command_runs_only_the_leak_family(tmp_path):
    out = tmp_path / "leaks"
    done = switchbench("leaks", "--profile", "smoke", "--out", str(out))
    assert done.returncode == 0, done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith(
        "switchbench: measuring the goroutine-leak scenarios: 6 scenarios × leaking and fixed, "
        "K=40, profile smoke, into "
    ), first
    assert "0 of 0" not in done.stderr and "  leaks:" not in done.stderr
    # Its report holds what it measured, and no case answer, table or precision.
    report = (out / "report.md").read_text()
    assert "This run measured the goroutine-leak scenarios (leaks.csv); no switch cases" in report
    assert "## Goroutine leaks" in report and "## Host" in report
    for absent in (
        "## The answer",
        "not measured in this run",
        "ns per switch",
        "## All cases",
        "## Precision",
        "## Counters per switch",
        "## What the cases are",
        "## How to read this",
        "## Memory",
    ):
        assert absent not in report, absent
    leaks = pd.read_csv(out / "leaks.csv")
    leaking = leaks[(leaks["scenario"] == "sender") & (leaks["version"] == "leaking")].iloc[0]
    assert leaking["status"] == "ok" and leaking["leaked_per_iter"] == pytest.approx(1, abs=0.1)
    assert not (out / "memory.csv").exists() and not (out / "overhead.csv").exists()
    assert json.loads((out / "run.json").read_text())["selected"] == []


def test_suite_json_is_pyperf_format(smoke_run):
    out, _ = smoke_run
    suite = pyperf.BenchmarkSuite.load(str(out / "suite.json"))
    measured = {b.get_name() for b in suite.get_benchmarks()}
    runnable = {
        c.id
        for c in cases.all_cases()
        if not c.sweep and case_skip_reason(c, sorted(os.sched_getaffinity(0))) is None
    }
    assert measured == runnable
    done = subprocess.run(
        [sys.executable, "-m", "pyperf", "stats", str(out / "suite.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"Number of benchmarks: {len(measured)}" in done.stdout


def test_csvs_load_back_and_agree_with_pyperf(smoke_run):
    out, _ = smoke_run
    samples = pd.read_csv(out / "samples.csv")
    summary = pd.read_csv(out / "summary.csv")
    assert list(samples.columns) == schema.SAMPLE_COLUMNS
    assert list(summary.columns) == schema.SUMMARY_COLUMNS
    suite = pyperf.BenchmarkSuite.load(str(out / "suite.json"))
    for bench in suite.get_benchmarks():
        mine = samples[samples["case"] == bench.get_name()]
        timed = mine[mine["kind"] == "timed"]
        assert sorted(timed["ns_per_switch"]) == pytest.approx(
            sorted(v * 1e9 for v in bench.get_values())
        )
        # One counted run per worker process, outside pyperf's values.
        counted = mine[mine["kind"] == "counted"]
        assert len(counted) == len([r for r in bench.get_runs() if r.values])
    ok = summary[summary["status"] == "ok"]
    assert (ok["ns_per_switch"] > 0).all() and ok["ns_per_switch"].notna().all()
    # Each CI is a pair of positive times (widened on a log scale, never below zero). From
    # one worker process (smoke takes one) nothing is widened, so a bootstrap interval of
    # the median lies within the case's own timed values.
    assert (ok["ci_low"] > 0).all()
    timed = samples[samples["kind"] == "timed"].groupby("case")["ns_per_switch"]
    for _, row in ok[ok["processes"] == 1].iterrows():
        low, high = timed.min()[row["case"]], timed.max()[row["case"]]
        # (the CSVs hold the values as written, so allow their last digit)
        assert low * (1 - 1e-9) <= row["ci_low"], row["case"]
        assert row["ci_high"] <= high * (1 + 1e-9), row["case"]
    assert ok["os_ctx_switches_per_switch"].notna().all()
    assert ok["expected_os_ctx_switches_per_switch"].notna().all()


def test_summary_shows_the_central_relations(smoke_run):
    out, _ = smoke_run
    rows = pd.read_csv(out / "summary.csv").set_index("case")
    go, thread = rows.loc["go.chan.p1"], rows.loc["c.condvar.same-core"]
    assert go["os_ctx_switches_per_switch"] < 0.05
    assert thread["os_ctx_switches_per_switch"] >= 0.5
    assert go["ns_per_switch"] < thread["ns_per_switch"]


def test_report_shows_measured_and_expected(smoke_run):
    out, _ = smoke_run
    text = (out / "report.md").read_text()
    summary = pd.read_csv(out / "summary.csv")
    for case_id in summary.loc[summary["status"] == "ok", "case"]:
        assert f"| `{case_id}` |" in text
    assert "expected" in text and "ns_per_switch.png" in text
    assert "thread switch costs" in text


def test_report_rebuilds_from_the_folder_alone(smoke_run, tmp_path):
    out, _ = smoke_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "report.md").unlink()
    done = switchbench("report", str(copy))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(copy / "report.md"), str(copy / "report.html")]
    assert (copy / "report.md").read_text().replace("copy", "smoke") == (
        out / "report.md"
    ).read_text()


def test_list_prints_ids():
    done = switchbench("list")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [c.id for c in cases.all_cases()]


def test_list_verbose_aligns_descriptions_in_good_english():
    done = switchbench("list", "-v")
    assert done.returncode == 0, done.stderr
    width = max(len(c.id) for c in cases.all_cases())
    lines = done.stdout.splitlines()
    assert len(lines) == len(cases.all_cases())
    assert all(line[width : width + 2] == "  " and line[width + 2] != " " for line in lines)
    assert "1 goroutine pair ping-pong" in done.stdout and "1 goroutine pairs" not in done.stdout
    assert "1 pthread pair ping-pong" in done.stdout and "1 pthread pairs" not in done.stdout
    assert "2 goroutine pairs ping-pong" in done.stdout


def test_one_cpu_machine_skips_cross_core_with_a_reason(tmp_path, artifacts, cpus):
    out = tmp_path / "one-cpu"
    done = switchbench(
        "run", "--profile", "smoke", "--only", "c.condvar.*", "--out", str(out), cpus={cpus[0]}
    )
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(out / "summary.csv").set_index("case")
    assert rows.loc["c.condvar.cross-core", "status"] == "skipped"
    assert "needs 2 CPUs" in rows.loc["c.condvar.cross-core", "reason"]
    assert rows.loc["c.condvar.same-core", "status"] == "ok"
    assert "needs 2 CPUs" in (out / "report.md").read_text()


def _one_line_error(done):
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("switchbench: error:")
    assert "Traceback" not in done.stderr
    return lines[0]


def test_unknown_pattern(tmp_path):
    out = tmp_path / "never"
    line = _one_line_error(switchbench("run", "--only", "go.nothing.*", "--out", str(out)))
    assert "go.nothing.*" in line and f"`{typed_command()} list` shows" in line
    assert not out.exists()


def test_unwritable_out(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = _one_line_error(switchbench("run", "--profile", "smoke", "--out", str(blocker / "run")))
    assert "--out" in line


def test_out_that_already_holds_files(tmp_path):
    (tmp_path / "old.txt").write_text("keep me")
    line = _one_line_error(switchbench("run", "--profile", "smoke", "--out", str(tmp_path)))
    assert "already exists" in line
    assert (tmp_path / "old.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.txt"]


def test_unknown_profile():
    line = _one_line_error(switchbench("run", "--profile", "forever"))
    assert "forever" in line


def _env_without(tool: str, tmp_path: Path) -> dict:
    """PATH without `tool`, and an empty build folder so the build must run."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for keep in ("gcc", "cc", "go", "as", "ld"):
        found = shutil.which(keep)
        if keep != tool and found:
            (bin_dir / keep).symlink_to(found)
    env = dict(os.environ, PATH=str(bin_dir), SWITCHBENCH_BUILD_DIR=str(tmp_path / "build"))
    env.pop("CC", None)
    env.pop("GO", None)
    return env


@pytest.mark.parametrize(("tool", "only"), [("go", "go.*"), ("gcc", "c.*")])
def test_missing_toolchain(tool, only, tmp_path):
    out = tmp_path / "never"
    line = _one_line_error(
        switchbench("run", "--only", only, "--out", str(out), env=_env_without(tool, tmp_path))
    )
    assert f"'{tool}' is not on PATH" in line and "install" in line
    assert not out.exists()


def test_without_perf_event_open_the_run_falls_back_to_getrusage(tmp_path):
    """Force perf_event_open to be unavailable (as perf_event_paranoid or seccomp would):
    the run still measures, says where its counts came from, and shows no fake zeros."""
    out = tmp_path / "no-perf"
    env = dict(os.environ, SWITCHBENCH_NO_PERF="1")
    done = switchbench(
        "run",
        "--profile",
        "smoke",
        "--only",
        "go.chan.p1,c.condvar.same-core",
        "--out",
        str(out),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(out / "summary.csv").set_index("case")
    assert (rows["os_ctx_source"] == "getrusage").all()
    assert rows["context_switches_per_switch"].isna().all()
    assert rows.loc["c.condvar.same-core", "os_ctx_switches_per_switch"] >= 0.5
    for column in ("cpu_migrations_per_switch", "task_clock_ns_per_switch", "cycles_per_switch"):
        assert rows[column].isna().all(), column
    host = json.loads((out / "host.json").read_text())
    assert host["counters"]["context_switches"]["available"] is False
    assert host["counters"]["context_switches"]["reason"]
    report_text = (out / "report.md").read_text()
    assert "perf_event_open was refused" in report_text
    line = next(
        x
        for x in report_text.splitlines()
        if x.startswith("| `c.condvar.same-core` | 2")
        or (x.startswith("| `c.condvar.same-core` |") and "getrusage" in x)
    )
    assert "unavailable" in line


def test_counters_command_names_every_counter(artifacts):
    done = switchbench("counters")
    assert done.returncode == 0, done.stderr
    rows = {}
    for line in done.stdout.splitlines():
        words = line.split(maxsplit=2)
        if len(words) >= 2 and words[1] in ("available", "unavailable"):
            rows[words[0]] = (words[1], words[2] if len(words) == 3 else "")
    assert set(rows) == set(COUNTER_NAMES)
    # Exactly what the probe says ("available" as a substring would also match
    # "unavailable"), and a counter that is unavailable says why.
    probe = probe_counters(artifacts.c_library)
    for name, (state, reason) in rows.items():
        assert state == ("available" if probe[name]["available"] else "unavailable"), name
        assert bool(reason) == (state == "unavailable"), name


def test_bad_memory_budget_is_a_one_line_error(tmp_path):
    env = dict(os.environ, SWITCHBENCH_MEMORY_BUDGET_MB="lots")
    out = tmp_path / "never"
    line = _one_line_error(switchbench("run", "--only", "memory", "--out", str(out), env=env))
    assert "SWITCHBENCH_MEMORY_BUDGET_MB" in line
    assert not out.exists()
