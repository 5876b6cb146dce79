"""The command line's shared pieces → the parser class, argument types and the command as typed.

invoked_as() names the command the user typed, for hints that paste and run as they stand.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import NoReturn

from bench.catalogue.profiles import PROFILES
from bench.render.fmt import as_typed, program


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, exit status 2, like every other input error of the suite.
        self.exit(2, f"switchbench: error: {message} (see `{self.prog} --help`)\n")


def add_profile_and_out(p: argparse.ArgumentParser, profile_help: str, out_default: str) -> None:
    """--profile (one of PROFILES, default "default") and --out, as run and leaks take them."""
    p.add_argument("--profile", choices=list(PROFILES), default="default", help=profile_help)
    p.add_argument("--out", metavar="DIR", help=f"result folder (default: {out_default})")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 to 100")
    return value


def invoked_as() -> str:
    """The command the user typed to start switchbench, shell-quoted, for hints that
    paste and run as they stand: `.venv/bin/switchbench` (the path as typed, relative
    to the working folder where it lies inside it) or `.venv/bin/python -m bench`."""
    argv0 = sys.argv[0] if sys.argv else ""
    name = Path(argv0).name
    if name == "__main__.py":  # python -m bench
        return f"{program(sys.executable)} -m {shlex.quote(Path(argv0).parent.name)}"
    if name.endswith(".py"):  # python bench/cli/main.py
        return f"{program(sys.executable)} {shlex.quote(as_typed(argv0))}"
    if name.startswith("switchbench"):
        # The console script: a bare name only where the shell found it on PATH.
        return program(argv0) if "/" in argv0 else shlex.quote(argv0)
    # Called from elsewhere (a test, an embedding program): the venv's own command.
    return program(Path(sys.executable).parent / "switchbench")
