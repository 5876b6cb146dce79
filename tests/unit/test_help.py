"""`--help` of every command, in a fresh process, and the command prefix hints name."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.cli import common
from tests.conftest import ROOT
from tests.unit.test_readme import subcommands

COMMANDS = sorted(subcommands())


def test_the_commands_are_discovered() -> None:
    assert {"list", "run", "leaks", "report", "compare"} <= set(COMMANDS)


def _invoked(monkeypatch: pytest.MonkeyPatch, cwd: Path, argv0: str, executable: str) -> str:
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", [argv0, "run"])
    monkeypatch.setattr(sys, "executable", executable)
    return common.invoked_as()


def test_hints_name_the_program_as_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    python = str(venv / "python")
    # The console script, by a path inside the working folder or outside it.
    assert _invoked(monkeypatch, tmp_path, ".venv/bin/switchbench", python) == (
        ".venv/bin/switchbench"
    )
    assert _invoked(monkeypatch, tmp_path, str(venv / "switchbench"), python) == (
        ".venv/bin/switchbench"
    )
    assert _invoked(monkeypatch, venv, str(venv / "switchbench"), python) == "./switchbench"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert _invoked(monkeypatch, elsewhere, str(venv / "switchbench"), python) == str(
        venv / "switchbench"
    )
    # python -m bench: the interpreter as typed, then -m bench.
    main = str(ROOT / "bench" / "__main__.py")
    assert _invoked(monkeypatch, tmp_path, main, python) == ".venv/bin/python -m bench"
    # A path that needs quoting for the shell is quoted.
    spaced = tmp_path / "my runs" / ".venv" / "bin"
    spaced.mkdir(parents=True)
    assert _invoked(monkeypatch, tmp_path, str(spaced / "switchbench"), python) == (
        "'my runs/.venv/bin/switchbench'"
    )
