"""The `switchbench` command line → the command it names, run; a user's error as one line.

Each command is a module of bench.cli with NAME, HELP, add_arguments(parser) and
run(args), in the order `switchbench --help` lists them.
"""

from __future__ import annotations

import argparse
import sys

from bench.cli import build, compare, counters, leaks, report, run, selfbench
from bench.cli import list as list_command
from bench.cli.common import Parser, invoked_as
from bench.errors import UsageError
from bench.render.fmt import visible

# The parser's description (`switchbench --help`).
DESCRIPTION = "The `switchbench` command: list, build, run, report."
COMMANDS = (list_command, build, run, counters, leaks, selfbench, compare, report)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=invoked_as(), description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP)
        command.add_arguments(p)
        p.set_defaults(func=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        # A command the message names is given as the user started this one, to paste.
        message = str(e).replace("`switchbench ", f"`{invoked_as()} ")
        # One line, whatever the message quotes from a folder: no terminal escapes.
        line = visible(" ".join(message.split()), backslash="\\")
        print(f"switchbench: error: {line}", file=sys.stderr)
        return 2
