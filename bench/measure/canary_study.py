"""Case families and canary shapes → how well each canary explains each case's values.

`python -m bench.measure.canary_study [--values N] [--value-ms MS] [--cases IDS]`
runs once, by hand, to choose the canary's shape (bench.native.canary.CHOSEN). In one
process per case it takes values of the case, each with one canary shape just before
and just after it, as a run does, in blocks of BLOCK values with one shape (so each
shape sees what it would see in a run: the case and the gap between values, no other
shape), the blocks dealt in shuffled rounds so that every shape meets every mood.
Per shape it then correlates log(value) with log(geometric mean of before and after),
over the values that shape sat beside, and gives its median ns per load and what its
two chases cost against the value. It prints a Markdown table; --json writes it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np

from bench.catalogue.cases import get_case
from bench.native.bridge import runner_for
from bench.native.build import Artifacts
from bench.native.canary import SHAPES, canary_for

# Values in a row with one shape: each shape runs alone for a while, as in a run, so that
# no other shape's buffer has just evicted its own.
BLOCK = 25
FAMILIES = ("go.chan.p1", "c.futex.same-core", "c.condvar.same-core", "c.pipe.threads.same-core")


def _calibrate(body: object, value_s: float) -> int:
    """Ops such that one run takes about value_s (doubling, as pyperf does), after one
    run thrown away: a case's first run can take far longer than its ops (the pipe
    cases' first took 12 ms for one round trip), which would calibrate to a handful."""
    body(1).check()  # type: ignore[operator]
    ops = 1
    while True:
        run = body(ops)  # type: ignore[operator]
        run.check()
        if run.elapsed_ns / 1e9 >= value_s / 2 or ops > 1 << 30:
            return max(1, int(ops * value_s / (run.elapsed_ns / 1e9)))
        ops *= 2


def study_case(case_id: str, values: int, value_s: float, seed: int) -> dict[str, object]:
    case = get_case(case_id)
    body = runner_for(case, Artifacts.locate())
    try:
        canaries = {name: canary_for(body, shape) for name, shape in SHAPES.items()}
        ops = _calibrate(body, value_s)
        rng = random.Random(seed)
        rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in canaries}
        order: list[str] = []
        for i in range(values):
            if i % BLOCK == 0:
                if not order:
                    order = rng.sample(list(canaries), len(canaries))
                name = order.pop()
            start = time.perf_counter_ns()
            before = canaries[name]()
            middle = time.perf_counter_ns()
            run = body(ops)  # type: ignore[operator]
            end = time.perf_counter_ns()
            after = canaries[name]()
            cost = (middle - start) + (time.perf_counter_ns() - end)
            run.check()
            canary = math.sqrt(before * after) if before and after else math.nan
            if i % BLOCK:  # the first of a block follows another shape's chases: left out
                rows[name].append((run.elapsed_ns / ops, canary, cost / run.elapsed_ns))
    finally:
        body.close()
    out: dict[str, object] = {"case": case_id, "values": values, "ops": ops}
    for name in SHAPES:
        table = np.array(rows[name])
        ok = np.isfinite(table[:, 1])
        value, canary = np.log(table[ok, 0]), np.log(table[ok, 1])
        out[name] = {
            "values": int(ok.sum()),
            "rho": float(np.corrcoef(value, canary)[0, 1]),
            "canary_ns": float(np.exp(np.median(canary))),
            # The two chases' wall time (before, after) against the value they sit beside.
            "share": float(np.median(table[ok, 2])),
            "value_sd_log": float(np.std(value, ddof=1)),
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=150)
    parser.add_argument("--value-ms", type=float, default=25.0)
    parser.add_argument("--cases", default=",".join(FAMILIES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results = [
        study_case(c, args.values, args.value_ms / 1e3, args.seed) for c in args.cases.split(",")
    ]
    print("| case | " + " | ".join(f"ρ {n} (ns/load, cost)" for n in SHAPES) + " |")
    print("|---|" + "---|" * len(SHAPES))
    for r in results:
        cells = []
        for name in SHAPES:
            c = r[name]
            cells.append(f"{c['rho']:.2f} ({c['canary_ns']:.1f}, {c['share']:.1%})")  # type: ignore[index]
        print(f"| {r['case']} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
