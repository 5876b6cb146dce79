"""`switchbench leaks`: the goroutine-leak scenarios alone → a result folder with leaks.csv."""

from __future__ import annotations

import argparse

from bench.catalogue.profiles import PROFILES
from bench.cli import run as run_command
from bench.cli.common import add_profile_and_out
from bench.results.write import default_out

NAME = "leaks"
HELP = "measure the goroutine-leak scenarios alone (a result folder with leaks.csv)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_profile_and_out(
        p,
        "how many calls K of each scenario: "
        + ", ".join(f"{p.name} {p.leak_k}" for p in PROFILES.values()),
        "results/leaks-<host>-<UTC time>",
    )


def run(args: argparse.Namespace) -> int:
    """`switchbench leaks`: a run of the goroutine-leak family alone."""
    args.only, args.resume, args.compare, args.repeat = "leaks", None, None, 1
    if not args.out:
        args.out = str(default_out("leaks"))
    return run_command.run(args)
