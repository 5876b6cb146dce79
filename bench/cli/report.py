"""`switchbench report`: a result folder → report.md, report.html and the figures, rebuilt."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.errors import UsageError
from bench.render import report

NAME = "report"
HELP = "rebuild report.md, report.html and the figures of a result folder"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR")


def run(args: argparse.Namespace) -> int:
    folder = Path(args.run_dir)
    if not folder.is_dir():
        raise UsageError(
            f"{folder} is not a folder; give a result folder made by `switchbench run`"
        )
    try:
        md_path = report.write_report(folder)
    except OSError as e:
        raise UsageError(
            f"cannot write the report into {folder}: {e.strerror or e}; "
            "copy the folder somewhere writable and run `switchbench report` there"
        ) from None
    print(md_path)
    print(md_path.with_name("report.html"))
    return 0
