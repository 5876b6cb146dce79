from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bench.native.build import Artifacts, build

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
# The tests by kind, one folder each, marked by it (pytest -m unit):
KINDS = ("unit", "native", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test marked with its folder's kind: unit (pure Python), native (the built C
    library or Go driver, in-process) or e2e (the CLI or whole runs, as subprocesses)."""
    for item in items:
        parts = Path(str(item.path)).resolve().relative_to(TESTS).parts
        if parts and parts[0] in KINDS:
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(scope="session")
def artifacts() -> Artifacts:
    return build({"c", "go"})


@pytest.fixture(scope="session")
def cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def typed_command() -> str:
    """How the CLI's hints name what `switchbench()` starts (python -m bench, from the
    root): the interpreter relative to the root where it lies inside it."""
    python = os.path.relpath(sys.executable, ROOT)
    return shlex.quote(sys.executable if python.startswith("..") else python) + " -m bench"


def switchbench(
    *args: str, env: dict | None = None, cpus: set[int] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the CLI as a user would, in a fresh process."""

    def pin() -> None:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)

    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=pin,
        cwd=cwd or ROOT,
        timeout=600,
        check=False,
    )


def rename_case(folder: Path, old: str, new: str | None) -> None:
    """A case renamed (or, with new=None, dropped) in every file of a result folder that
    names it, so the folder stays consistent (bench.results.read checks the files agree)."""
    import json

    import pandas as pd

    for name in ("summary.csv", "samples.csv"):
        frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        frame = frame[frame["case"] != old] if new is None else frame.replace({"case": {old: new}})
        frame.to_csv(folder / name, index=False)
    run = json.loads((folder / "run.json").read_text())
    run["selected"] = [new if c == old else c for c in run["selected"] if new or c != old]
    record = run["cases"].pop(old, None)
    if new is not None and record is not None:
        run["cases"][new] = record
    (folder / "run.json").write_text(json.dumps(run, indent=2) + "\n")


def scale_times(folder: Path, factor: float) -> None:
    """Every time in a result folder multiplied by factor, as a machine that slow would give."""
    import pandas as pd

    samples = pd.read_csv(folder / "samples.csv")
    samples["ns_per_switch"] *= factor
    samples.to_csv(folder / "samples.csv", index=False)
    summary = pd.read_csv(folder / "summary.csv")
    for column in ("ns_per_switch", "ci_low", "ci_high"):
        summary[column] *= factor
    summary.to_csv(folder / "summary.csv", index=False)


def skip_unless_required(variable: str, reason: str) -> None:
    """Skip a test whose tool or library is missing here, with the reason; CI sets
    `variable`=1 (.ci/run installs what it needs), which turns the skip into a failure."""
    if os.environ.get(variable) == "1":
        pytest.fail(f"{variable}=1 but {reason}")
    pytest.skip(reason)


REFERENCE = ROOT / "results" / "reference"


def copy_reference(tmp_path: Path, name: str) -> Path:
    """The committed reference run copied to tmp_path/name, without its raw pyperf
    files and figures (what the tests change and render again)."""
    import shutil

    out = tmp_path / name
    shutil.copytree(REFERENCE, out, ignore=shutil.ignore_patterns("raw", "*.png", "*.svg"))
    return out


def fake_perf(folder: Path, body: str | None = None) -> Path:
    """An executable `perf` in folder that logs its arguments to the returned file and
    answers as `perf bench sched pipe` does (or runs body instead)."""
    import stat

    log = folder / "calls.log"
    script = folder / "perf"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        + (
            body
            or 'loops=0; kind=processes; prev=""\n'
            'for a in "$@"; do\n'
            '  [ "$prev" = "-l" ] && loops=$a\n'
            '  [ "$a" = "-T" ] && kind=threads\n'
            "  prev=$a\n"
            "done\n"
            "echo \"# Running 'sched/pipe' benchmark:\"\n"
            'echo "# Executed $loops pipe operations between two $kind"\n'
            'echo ""\n'
            'echo "       4.000000 usecs/op"\n'
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return log
