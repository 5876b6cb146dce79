"""`switchbench list`: the catalogue → the case ids (and descriptions), one per line."""

from __future__ import annotations

import argparse

from bench.catalogue import cases

NAME = "list"
HELP = "print the case ids, one per line"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--only", metavar="GLOB", help="only cases matching these globs (comma-separated)"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="add each case's description")


def run(args: argparse.Namespace) -> int:
    selected = cases.select(args.only)
    width = max((len(case.id) for case in selected), default=0)
    for case in selected:
        print(f"{case.id:{width}}  {case.description}" if args.verbose else case.id)
    return 0
