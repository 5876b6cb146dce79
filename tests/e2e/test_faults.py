"""Nothing lost, nothing hung: failing cases, Ctrl-C and --resume."""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyperf

from tests.conftest import ROOT, switchbench, typed_command

CASES = "go.chan.p1,go.cond.p1,c.futex.same-core,c.sem.same-core,c.ucontext,c.clock.monotonic"


def test_hanging_and_crashing_cases_fail_and_the_run_goes_on(tmp_path, artifacts):
    out = tmp_path / "faulty"
    # The case deadline (10 s) comes before any native run's (60 s floor) here.
    env = dict(
        os.environ,
        SWITCHBENCH_TEST_CASES="1",
        SWITCHBENCH_DEADLINE_S="10",
        SWITCHBENCH_RUN_DEADLINE_S="60",
    )
    done = switchbench(
        "run",
        "--profile",
        "smoke",
        "--only",
        "go.chan.p1,test.*,c.ucontext",
        "--out",
        str(out),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(out / "summary.csv", keep_default_na=False).set_index("case")
    assert rows.loc["test.hang", "status"] == "failed"
    assert "killed after 10 s" in rows.loc["test.hang", "reason"]
    assert rows.loc["test.crash", "status"] == "failed"
    assert "crashing on purpose" in rows.loc["test.crash", "reason"]
    assert rows.loc["go.chan.p1", "status"] == "ok" and rows.loc["c.ucontext", "status"] == "ok"
    assert "test.hang" in (out / "report.md").read_text()
    # The hung case was killed with everything it started.
    assert not _processes_running("test.hang")


def test_a_native_run_past_its_own_deadline_is_killed_early(tmp_path, artifacts):
    """The per-run watchdog ends a stuck native run long before the case deadline."""
    out = tmp_path / "stuck"
    env = dict(
        os.environ,
        SWITCHBENCH_TEST_CASES="1",
        SWITCHBENCH_DEADLINE_S="300",
        SWITCHBENCH_RUN_DEADLINE_S="2",
    )
    t0 = time.monotonic()
    done = switchbench(
        "run", "--profile", "smoke", "--only", "test.hang,c.ucontext", "--out", str(out), env=env
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - t0 < 120
    rows = pd.read_csv(out / "summary.csv", keep_default_na=False).set_index("case")
    assert rows.loc["test.hang", "status"] == "failed"
    assert "ran past its deadline of 2.0 s" in rows.loc["test.hang", "reason"]
    assert rows.loc["c.ucontext", "status"] == "ok"
    assert not _processes_running("test.hang")


def _processes_running(word: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if word.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def test_test_cases_stay_out_of_the_normal_catalogue():
    assert "test.hang" not in switchbench("list").stdout


def _finished(out) -> int:
    try:
        return len(json.loads((out / "run.json").read_text())["cases"])
    except (OSError, ValueError, KeyError):
        return 0


def test_sigint_keeps_finished_cases_and_resume_completes_the_folder(tmp_path, artifacts):
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            "--profile",
            "smoke",
            "--only",
            CASES,
            "--out",
            str(out),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while _finished(out) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never finished two cases"
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert stdout.strip().splitlines()[-1] == str(out)
    # The hint is the command to finish with, as the run was started, on one line.
    hint = next(line for line in stderr.splitlines() if "Finish with: " in line)
    command = hint.split("Finish with: ", 1)[1]
    assert command == f"{typed_command()} run --resume {shlex.quote(str(out))}"

    state = json.loads((out / "run.json").read_text())
    assert state["status"] == "interrupted"
    finished = [c for c, s in state["cases"].items() if s["status"] == "ok"]
    assert len(finished) >= 2
    for case_id in finished:  # each finished case is intact
        bench = pyperf.Benchmark.load(str(out / "raw" / f"{case_id}.json"))
        assert bench.get_nvalue() > 0
    rows = pd.read_csv(out / "summary.csv", keep_default_na=False).set_index("case")
    assert set(rows.index) == set(CASES.split(","))
    assert set(rows.index[rows["status"] == "not run"]) == set(CASES.split(",")) - set(finished)
    before = {c: (out / "raw" / f"{c}.json").read_bytes() for c in finished}

    # Pasted into a shell as it stands, it finishes the run.
    done = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    state = json.loads((out / "run.json").read_text())
    assert state["status"] == "complete"
    rows = pd.read_csv(out / "summary.csv", keep_default_na=False).set_index("case")
    # The same case set as an uninterrupted run, every case measured once.
    assert list(rows.index) == CASES.split(",")
    assert (rows["status"] == "ok").all()
    suite = pyperf.BenchmarkSuite.load(str(out / "suite.json"))
    assert sorted(b.get_name() for b in suite.get_benchmarks()) == sorted(CASES.split(","))
    for case_id, data in before.items():  # the first session's cases were not re-measured
        assert (out / "raw" / f"{case_id}.json").read_bytes() == data


def test_resume_refuses_a_folder_that_is_not_a_run(tmp_path):
    done = switchbench("run", "--resume", str(tmp_path))
    assert done.returncode == 2
    assert "cannot be resumed" in done.stderr and "Traceback" not in done.stderr


def _report_error(folder):
    done = switchbench("report", str(folder))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def test_damaged_result_folders_give_one_line_errors(tmp_path):
    import shutil

    reference = ROOT / "results" / "reference"
    cases_to_break = {
        "missing summary": lambda d: (d / "summary.csv").unlink(),
        "corrupt host": lambda d: (d / "host.json").write_bytes(b"\x00{not json"),
        "newer schema": lambda d: (d / "host.json").write_text('{"schema_version": 99}'),
        "truncated summary": lambda d: (d / "summary.csv").write_text(
            (d / "summary.csv").read_text()[:200]
        ),
        "negative time": lambda d: None,  # set below, through pandas
    }
    for name, damage in cases_to_break.items():
        folder = tmp_path / name.replace(" ", "-")
        shutil.copytree(reference, folder)
        damage(folder)
        if name == "negative time":
            summary = pd.read_csv(folder / "summary.csv")
            summary.loc[0, "ns_per_switch"] = -5
            summary.to_csv(folder / "summary.csv", index=False)
        line = _report_error(folder)
        assert str(folder) in line, (name, line)
    assert "schema_version 99" in _report_error(tmp_path / "newer-schema")
