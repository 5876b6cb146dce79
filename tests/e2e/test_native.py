"""The native bodies, called directly at small loop counts."""

import json
import shutil
import subprocess
import sys

import pytest


def test_c_checks(artifacts, cpus):
    """c/check_handoffs: the C library's own checks, every primitive and placement."""
    second = cpus[1] if len(cpus) > 1 else cpus[0]
    done = subprocess.run(
        [str(artifacts.c_check), str(cpus[0]), str(second)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(" 0 failed")


def test_go_driver_rejects_bad_input(artifacts):
    done = subprocess.run(
        [str(artifacts.go_driver), "-body", "nope"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "unknown -body" in done.stderr


@pytest.mark.skipif(shutil.which("perf") is None, reason="the perf tool is not installed")
@pytest.mark.parametrize("case_id", ["c.condvar.same-core", "go.chan.locked.p1"])
def test_counts_agree_with_perf_stat(case_id, artifacts, tmp_path):
    """perf stat over the whole process against the suite's count over the timed region:
    at a large loop count the region holds nearly every switch, so per-switch figures agree."""
    probe = subprocess.run(
        ["perf", "stat", "-x,", "-e", "context-switches", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0 or "<not" in probe.stderr:
        pytest.skip(f"perf stat cannot count context switches here: {probe.stderr.strip()}")
    ops = 20_000
    script = (
        "import json, sys; from bench.catalogue import cases;"
        "from bench.native.build import Artifacts;"
        "from bench.native.bridge import runner_for;"
        f"b = runner_for(cases.get_case({case_id!r}), Artifacts.locate());"
        f"r = b({ops}, count_perf=True); b.close();"
        "print(json.dumps([r.voluntary_ctx + r.involuntary_ctx, r.counters[0]]))"
    )
    done = subprocess.run(
        ["perf", "stat", "-x,", "-e", "context-switches", "--", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    suite_rusage, suite_perf = json.loads(done.stdout.strip().splitlines()[-1])
    line = next(x for x in done.stderr.splitlines() if "context-switches" in x)
    perf_total = int(line.split(",")[0])
    switches = 2 * ops
    assert suite_rusage / switches >= 0.5
    assert perf_total / switches == pytest.approx(suite_rusage / switches, rel=0.15)
    if suite_perf is not None:
        assert perf_total / switches == pytest.approx(suite_perf / switches, rel=0.15)


def test_without_boost_context_the_floor_case_is_skipped_with_the_install_hint(tmp_path):
    """A machine without libboost-context-dev: the run goes on, and c.fcontext is
    skipped, its reason naming the package to install (SWITCHBENCH_BOOST_CONTEXT names a
    library that does not exist, as on such a machine)."""
    import os

    import pandas as pd

    from tests.conftest import switchbench

    env = dict(os.environ, SWITCHBENCH_BOOST_CONTEXT="libswitchbench-no-such-boost.so")
    out = tmp_path / "run"
    done = switchbench(
        "run", "--profile", "smoke", "--only", "c.fcontext,c.ucontext", "--out", str(out), env=env
    )
    assert done.returncode == 0, done.stderr
    summary = pd.read_csv(out / "summary.csv").set_index("case")
    assert summary.loc["c.fcontext", "status"] == "skipped"
    assert "apt-get install libboost-context-dev" in summary.loc["c.fcontext", "reason"]
    assert summary.loc["c.ucontext", "status"] == "ok"
    assert "apt-get install libboost-context-dev" in (out / "report.md").read_text()
