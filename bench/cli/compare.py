"""`switchbench compare`: two or more result folders → compare.md, compare.html and compare.csv."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from bench.analysis import comparison
from bench.cli.common import percent
from bench.errors import UsageError
from bench.native.build import source_root
from bench.render import compare

NAME = "compare"
HELP = "set result folders from different machines side by side, against the first"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dirs", metavar="RUN_DIR", nargs="+", help="two or more result folders")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="where compare.md/.html/.csv go (default: results/compare-<UTC time>)",
    )
    p.add_argument(
        "--noise-band",
        metavar="PCT",
        type=percent,
        default=comparison.NOISE_BAND * 100,
        help="differences smaller than this many %% are never called significant "
        f"(default {comparison.NOISE_BAND * 100:.0f}%%: the drift between runs of one shared VM)",
    )


def run(args: argparse.Namespace) -> int:
    folders = [Path(f) for f in args.run_dirs]
    if len(folders) < 2:
        raise UsageError("compare needs at least two result folders: RUN_A RUN_B [RUN_C ...]")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = Path(args.out) if args.out else source_root() / "results" / f"compare-{stamp}"
    try:
        print(compare.write_comparison(folders, out, args.noise_band / 100))
    except OSError as e:
        raise UsageError(
            f"cannot write the comparison into {out}: {e.strerror or e}; choose --out elsewhere"
        ) from None
    return 0
