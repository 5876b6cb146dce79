"""SIGTERM in the middle of the memory and leaks steps: exit 130, an interrupted
run.json that keeps what was finished, and --resume completes the folder."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.measure import system
from tests.conftest import ROOT, switchbench

CASE = "go.chan.p1"
BENCH_RUN = (sys.executable, "-m", "bench", "run", "--profile", "smoke")


def _terminate_during(out: Path, only: str, line_starts: str) -> tuple[int, str]:
    """Start a run in a session of its own, send SIGTERM as soon as the step's progress
    line reaches stderr; the exit status and all of stderr."""
    proc = subprocess.Popen(
        [*BENCH_RUN, "--only", only, "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        seen = []
        deadline = time.monotonic() + 120
        for line in proc.stderr:
            seen.append(line)
            if line.lstrip().startswith(line_starts):
                proc.send_signal(signal.SIGTERM)
                break
            assert time.monotonic() < deadline, "".join(seen)
        else:
            pytest.fail("the step never started:\n" + "".join(seen))
        rest = proc.stderr.read()
        proc.wait(timeout=120)
        # Nothing of the run's session is left behind (the measuring children included).
        for _ in range(50):
            if not system.session_processes(proc.pid):
                break
            time.sleep(0.1)
        assert system.session_processes(proc.pid) == []
        return proc.returncode, "".join(seen) + rest
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize(
    ("step", "progress", "csv"),
    [
        ("memory", "memory: goroutines and threads", "memory.csv"),
        ("leaks", "leaks: ", "leaks.csv"),
    ],
)
def test_sigterm_during_a_step_keeps_what_is_done_and_resume_finishes(
    tmp_path, artifacts, step, progress, csv
):
    out = tmp_path / "run"
    status, stderr = _terminate_during(out, f"{CASE},{step}", progress)
    assert status == 130, stderr
    state = json.loads((out / "run.json").read_text())
    assert state["status"] == "interrupted", stderr
    assert state[step] is True
    # The case finished before the step is kept, intact, and not measured again.
    assert state["cases"][CASE]["status"] == "ok"
    raw = out / "raw" / f"{CASE}.json"
    before = raw.read_bytes()

    done = switchbench("run", "--resume", str(out))
    assert done.returncode == 0, done.stderr
    state = json.loads((out / "run.json").read_text())
    assert state["status"] == "complete"
    assert state["cases"][CASE]["status"] == "ok"
    assert raw.read_bytes() == before
    assert (out / csv).is_file() and len((out / csv).read_text().splitlines()) > 1
    assert (out / "report.md").is_file()
