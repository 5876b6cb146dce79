"""Harness overhead: the minimal loops with no harness, the timer, and the report's section."""

import json
import math
import subprocess

import pytest

from bench.catalogue.placement import affinity_refused, pin_cpus, usable_cpus

REPEATS = 3


def _lines(argv):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


def _same_core_cpu():
    return -1 if affinity_refused() else pin_cpus("same-core", usable_cpus())[0]


def _check_loops(lines, n):
    assert len(lines) == REPEATS
    for line in lines:
        assert line["round_trips"] == n
        assert math.isfinite(line["ns_per_switch"]) and line["ns_per_switch"] > 0
        assert line["ns_per_switch"] == pytest.approx(line["elapsed_ns"] / (2 * n), rel=1e-3)


def test_the_minimal_go_loop_runs(artifacts):
    assert artifacts.go_minimal is not None and artifacts.go_minimal.is_file()
    lines = _lines([str(artifacts.go_minimal), "-n", "2000", "-repeat", str(REPEATS)])
    _check_loops(lines, 2000)
    assert all(line["gomaxprocs"] == 1 for line in lines)


def test_the_minimal_c_loop_runs(artifacts):
    assert artifacts.c_minimal is not None and artifacts.c_minimal.is_file()
    cpu = _same_core_cpu()
    lines = _lines([str(artifacts.c_minimal), "200", str(REPEATS), str(cpu)])
    _check_loops(lines, 200)
    assert all(line["cpu"] == cpu for line in lines)


@pytest.mark.parametrize("argv", [["x"], ["0", "1", "0"], ["10", "1", "-2"], ["--timer", "1"]])
def test_the_minimal_c_program_refuses_bad_arguments(artifacts, argv):
    done = subprocess.run(
        [str(artifacts.c_minimal), *argv], capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 2 and "usage" in done.stderr


@pytest.mark.parametrize(
    ("lang", "flag"), [("c", ["--timer", "5", "100", "1000"]), ("go", ["-timer", "-batches", "5"])]
)
def test_the_timer_is_measured(artifacts, lang, flag):
    program = artifacts.c_minimal if lang == "c" else artifacts.go_minimal
    (result,) = _lines([str(program), *flag])
    assert len(result["call_ns"]) == 5 and all(x > 0 for x in result["call_ns"])
    assert result["min_step_ns"] > 0
    if lang == "c":
        assert result["getres_ns"] > 0
