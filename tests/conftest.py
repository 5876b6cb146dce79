from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.build import Artifacts, build

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def artifacts() -> Artifacts:
    return build({"c", "go"})


@pytest.fixture(scope="session")
def cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


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
