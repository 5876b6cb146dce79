"""`switchbench selfbench`: whole profiles run back to back → the suite benchmarked (self.md)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from bench.catalogue.profiles import PROFILES
from bench.errors import UsageError
from bench.measure import selfbench
from bench.native.build import source_root
from bench.results.write import create_out

NAME = "selfbench"
HELP = (
    "benchmark the suite itself: whole profiles back to back, their wall times, "
    "the CIs they reach, two default runs compared, go test -bench beside the suite"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profiles",
        default="quick,default,default",
        help="profiles to run, in order (default: quick,default,default)",
    )
    p.add_argument(
        "--go-rounds",
        type=int,
        default=selfbench.GO_TEST_ROUNDS,
        metavar="N",
        help="interleaved rounds of the suite and go test -bench on the same cases "
        f"(default: {selfbench.GO_TEST_ROUNDS}; 0 leaves them out)",
    )
    p.add_argument("--out", metavar="DIR", help="default: results/selfbench-<UTC time>")


def run(args: argparse.Namespace) -> int:
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    unknown = [p for p in profiles if p not in PROFILES]
    if not profiles or unknown:
        raise UsageError(f"--profiles {args.profiles!r}: name profiles from {', '.join(PROFILES)}")
    if args.go_rounds < 0:
        raise UsageError(f"--go-rounds {args.go_rounds}: give 0 or more rounds")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = Path(args.out) if args.out else source_root() / "results" / f"selfbench-{stamp}"
    create_out(out)
    print(selfbench.selfbench(out, profiles, go_rounds=args.go_rounds))
    return 0
