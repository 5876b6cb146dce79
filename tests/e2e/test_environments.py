"""Machines unlike the developer's: CPU affinity refused, a read-only results
folder. Each gives a clean skip with its reason or a one-line error.

(One CPU, perf_event_open refused, no hardware counters, `ulimit -s` unlimited
or tiny, Go or gcc missing are covered in test_cli, test_native and test_memory.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, switchbench

REFUSE_AFFINITY = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
/* As a sandbox that forbids CPU affinity answers: EPERM. */
int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{ (void)pid; (void)size; (void)set; errno = EPERM; return -1; }
int pthread_setaffinity_np(pthread_t thread, size_t size, const cpu_set_t *set)
{ (void)thread; (void)size; (void)set; return EPERM; }
"""


def test_refused_cpu_affinity_skips_the_pinned_cases_with_the_reason(tmp_path: Path) -> None:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed: the affinity-refusing shim cannot be built")
    (tmp_path / "refuse.c").write_text(REFUSE_AFFINITY)
    shim = tmp_path / "refuse.so"
    subprocess.run(
        [gcc, "-shared", "-fPIC", "-o", str(shim), str(tmp_path / "refuse.c")], check=True
    )
    out = tmp_path / "run"
    env = dict(os.environ, LD_PRELOAD=str(shim))
    done = switchbench(
        "run", "--profile", "smoke", "--only", "c.futex.*,c.ucontext", "--out", str(out), env=env
    )
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(out / "summary.csv", keep_default_na=False).set_index("case")
    for pinned in ("c.futex.same-core", "c.futex.cross-core"):
        assert rows.loc[pinned, "status"] == "skipped"
        assert "refuses CPU affinity" in rows.loc[pinned, "reason"]
        assert "EPERM" in rows.loc[pinned, "reason"]
    assert rows.loc["c.futex.unpinned", "status"] == "ok"
    assert rows.loc["c.ucontext", "status"] == "ok"


@contextmanager
def read_only_folder(path: Path, contents: Path | None = None) -> Iterator[None]:
    """path becomes a folder nobody may write, holding a copy of `contents`: a read-only
    tmpfs where this process may mount one (root, in most containers), else modes
    0555/0444 for a non-root user."""
    path.mkdir()
    if os.geteuid() != 0:
        if contents:
            shutil.copytree(contents, path, dirs_exist_ok=True)
        for p in [path, *path.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p in [path, *path.rglob("*")]:
                p.chmod(0o755 if p.is_dir() else 0o644)
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("root without mount(2) here: no way to make a folder read-only for root")
    try:
        if contents:
            shutil.copytree(contents, path, dirs_exist_ok=True)
        subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(path)], check=False)


def test_a_read_only_results_folder_is_one_line_error_before_measuring(tmp_path: Path) -> None:
    results = tmp_path / "results"
    with read_only_folder(results):
        done = switchbench(
            "run", "--profile", "smoke", "--only", "c.ucontext", "--out", str(results / "run")
        )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "cannot write the result folder" in lines[0] and "--out" in lines[0]


def test_report_and_compare_into_a_read_only_folder_are_one_line_errors(
    tmp_path: Path,
) -> None:
    reference = ROOT / "results" / "reference"
    locked = tmp_path / "locked"
    ignore = shutil.ignore_patterns("raw")
    copy = tmp_path / "copy"
    shutil.copytree(reference, copy, ignore=ignore)
    with read_only_folder(locked, contents=copy):
        report = switchbench("report", str(locked))
        compared = switchbench("compare", str(locked), str(locked), "--out", str(locked / "cmp"))
    for done, fix in ((report, "copy the folder somewhere writable"), (compared, "--out")):
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert fix in done.stderr
