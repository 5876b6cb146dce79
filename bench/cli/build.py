"""`switchbench build`: go/ and c/ → the built library and programs, their paths printed."""

from __future__ import annotations

import argparse

from bench.native.build import build

NAME = "build"
HELP = "compile go/ and c/ (cached)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    artifacts = build({"c", "go"}, quiet=False)
    for path in (artifacts.c_library, artifacts.c_check, artifacts.go_driver):
        print(path)
    return 0
