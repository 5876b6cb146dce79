"""The hardware counters through the whole pipeline: worker metadata -> tidy ->
analyse -> report -> compare.

The development VMs expose no PMU, so no run of theirs has ever carried cycles,
instructions, branch or cache misses. Here the worker's metadata records carry them,
with values of the sizes a machine with a PMU records (a 3.1 GHz core: a futex
hand-off on one CPU of some 7,000 cycles at an IPC near 0.6, a goroutine switch of
some 390 cycles at an IPC near 2.5), and every figure the suite derives from them
is checked against the same figure computed here from the values fed in."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyperf
import pytest

from bench.analysis import comparison, tidy
from bench.analysis import summary as analyse
from bench.catalogue import cases
from bench.measure.worker import COUNTED_METADATA, COUNTERS_METADATA, SIZED_METADATA
from bench.native.bridge import COUNTER_NAMES, HARDWARE_COUNTERS
from bench.render import compare, report
from bench.render.fmt import num
from bench.results import read
from tests.conftest import ROOT

REFERENCE = ROOT / "results" / "reference"
CASES = ("go.chan.p1", "c.futex.same-core", "c.syscall.getppid")

# Per case: loops (ops) of every value, then per worker process the values' elapsed ns
# and getrusage counts, and the counted run: elapsed ns and, in COUNTER_NAMES order,
# context switches, migrations, task-clock ns, page faults, cycles, instructions,
# branch misses, cache misses.
RECORDED: dict[str, dict] = {
    "go.chan.p1": {
        "loops": 131072,
        "processes": [
            {
                "values": [(31_610_000, 8, 0), (31_402_000, 2, 1), (31_980_000, 3, 0)],
                "counted": (
                    32_870_000,
                    (11, 0, 33_120_000, 2, 102_652_000, 256_120_000, 301_000, 20_400),
                ),
            },
            {
                "values": [(30_870_000, 1, 0), (31_004_000, 4, 0), (31_222_000, 2, 0)],
                "counted": (
                    32_440_000,
                    (9, 1, 32_705_000, 0, 101_388_000, 255_930_000, 298_500, 19_870),
                ),
            },
            {
                "values": [(32_100_000, 6, 1), (31_870_000, 1, 0), (31_760_000, 0, 0)],
                "counted": (
                    33_050_000,
                    (14, 0, 33_290_000, 1, 103_199_000, 256_410_000, 305_200, 21_030),
                ),
            },
        ],
    },
    "c.futex.same-core": {
        "loops": 2048,
        "processes": [
            {
                "values": [
                    (9_512_000, 2350, 1746),
                    (9_470_000, 2402, 1694),
                    (9_650_000, 2388, 1708),
                ],
                "counted": (
                    9_897_000,
                    (4096, 0, 9_701_000, 0, 30_073_000, 17_015_000, 211_400, 48_120),
                ),
            },
            {
                "values": [
                    (9_301_000, 2291, 1805),
                    (9_377_000, 2310, 1786),
                    (9_420_000, 2334, 1762),
                ],
                "counted": (
                    9_702_000,
                    (4097, 0, 9_560_000, 0, 29_636_000, 16_880_000, 209_800, 47_300),
                ),
            },
            {
                "values": [
                    (9_810_000, 2417, 1679),
                    (9_733_000, 2398, 1698),
                    (9_688_000, 2366, 1730),
                ],
                "counted": (
                    10_012_000,
                    (4096, 1, 9_894_000, 1, 30_671_000, 17_190_000, 214_900, 49_660),
                ),
            },
        ],
    },
    "c.syscall.getppid": {
        "loops": 65536,
        "processes": [
            {
                "values": [(11_190_000, 0, 0), (11_260_000, 0, 1), (11_230_000, 0, 0)],
                "counted": (
                    11_480_000,
                    (0, 0, 11_470_000, 0, 35_557_000, 20_120_000, 1_100, 310),
                ),
            },
            {
                "values": [(11_070_000, 0, 0), (11_110_000, 0, 0), (11_150_000, 1, 0)],
                "counted": (
                    11_390_000,
                    (0, 0, 11_380_000, 0, 35_278_000, 20_118_000, 1_080, 295),
                ),
            },
            {
                "values": [(11_320_000, 0, 0), (11_290_000, 0, 0), (11_340_000, 0, 0)],
                "counted": (
                    11_600_000,
                    (0, 0, 11_590_000, 0, 35_929_000, 20_125_000, 1_130, 322),
                ),
            },
        ],
    },
}


def _record(ops: int, elapsed: int, vol: int, invol: int, perf: tuple) -> list:
    return [ops, elapsed, vol, invol, *perf]


def _suite(recorded: dict[str, dict]) -> pyperf.BenchmarkSuite:
    """A suite as bench.measure.worker writes one: pyperf's values (seconds per switch), and
    in each run's metadata the values' getrusage counts (the perf counters are off
    during them: null), one counted run with every counter, and the sized runs."""
    benchmarks = []
    for case_id, fed in recorded.items():
        case = cases.get_case(case_id)
        loops, inner = fed["loops"], case.switches_per_op
        runs = []
        for process in fed["processes"]:
            off = (None,) * len(COUNTER_NAMES)
            timed = [_record(loops, e, v, i, off) for e, v, i in process["values"]]
            elapsed, perf = process["counted"]
            counted = _record(loops, elapsed, perf[0], 0, perf)
            # Runs of 1/8 ... 1/1 of the loops, at the values' pace.
            pace = process["values"][0][0] / loops
            sized = [
                _record(loops // d, round(pace * (loops // d)), 0, 0, off) for d in (8, 4, 2, 1)
            ]
            metadata = {
                "name": case_id,
                "loops": loops,
                "inner_loops": inner,
                "unit": "second",
                COUNTERS_METADATA: json.dumps(timed),
                COUNTED_METADATA: json.dumps(counted),
                SIZED_METADATA: json.dumps(sized),
            }
            values = [e / (loops * inner) / 1e9 for e, _, _ in process["values"]]
            runs.append(
                pyperf.Run(
                    values,
                    warmups=[(loops, values[0])],
                    metadata=metadata,
                    collect_metadata=False,
                )
            )
        benchmarks.append(pyperf.Benchmark(runs))
    return pyperf.BenchmarkSuite(benchmarks)


def _by_hand(recorded: dict[str, dict], case_id: str) -> dict[str, float]:
    """Per switch, from the values fed in: the counted runs' totals over their switches."""
    fed = recorded[case_id]
    switches = fed["loops"] * cases.get_case(case_id).switches_per_op
    perf = np.array([p["counted"][1] for p in fed["processes"]], dtype=float)
    total = dict(zip(COUNTER_NAMES, perf.sum(axis=0), strict=True))
    counted_switches = switches * len(fed["processes"])
    out = {f"{name}_per_switch": total[name] / counted_switches for name in COUNTER_NAMES}
    out["ipc"] = total["instructions"] / total["cycles"]
    out["ghz"] = total["cycles"] / total["task_clock_ns"]
    ns = [e / switches for p in fed["processes"] for e, _, _ in p["values"]]
    out["ns_per_switch"] = float(np.median(ns))
    return out


def _scaled_clock(recorded: dict[str, dict], factor: float) -> dict[str, dict]:
    """The same run on a machine whose cycles counter ran `factor` times as many cycles
    in the same task-clock time (a core clocked that much higher)."""
    out = json.loads(json.dumps(recorded))
    for fed in out.values():
        for process in fed["processes"]:
            elapsed, perf = process["counted"]
            perf = list(perf)
            perf[COUNTER_NAMES.index("cycles")] = round(
                perf[COUNTER_NAMES.index("cycles")] * factor
            )
            process["counted"] = (elapsed, tuple(perf))
            process["values"] = [tuple(v) for v in process["values"]]
    return out


def _folder(tmp_path: Path, name: str, recorded: dict[str, dict]) -> tuple[Path, pd.DataFrame]:
    """A result folder of these cases: the reference's host and run files, its counters
    marked available (a machine with a PMU), and samples and summary made from the suite
    by tidy and analyse, as `switchbench run` makes them."""
    out = tmp_path / name
    shutil.copytree(REFERENCE, out, ignore=shutil.ignore_patterns("raw", "*.png", "*.svg"))
    samples = tidy.samples_from_suite(_suite(recorded))
    samples.to_csv(out / "samples.csv", index=False)
    summary = analyse.summarise(samples, [cases.get_case(c) for c in CASES], {})
    analyse.write_summary(summary, out / "summary.csv")
    run = json.loads((out / "run.json").read_text())
    run["selected"] = list(CASES)
    run["cases"] = {c: run["cases"][c] for c in CASES}
    (out / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    host = json.loads((out / "host.json").read_text())
    for name in COUNTER_NAMES:
        host["counters"][name] = {"available": True, "reason": ""}
    (out / "host.json").write_text(json.dumps(host, indent=2) + "\n")
    return out, samples


def test_tidy_keeps_every_hardware_count_of_the_counted_run(tmp_path: Path) -> None:
    samples = tidy.samples_from_suite(_suite(RECORDED))
    for case_id, fed in RECORDED.items():
        mine = samples[samples["case"] == case_id]
        counted = mine[mine["kind"] == "counted"].sort_values("process")
        assert len(counted) == len(fed["processes"])
        for (_, row), process in zip(counted.iterrows(), fed["processes"], strict=True):
            for name, value in zip(COUNTER_NAMES, process["counted"][1], strict=True):
                assert row[name] == value, (case_id, name)
        # The timed values ran without perf counters: those stay unavailable, never 0.
        timed = mine[mine["kind"] == "timed"]
        assert len(timed) == 3 * len(fed["processes"])
        assert timed[list(HARDWARE_COUNTERS)].isna().all().all()


@pytest.mark.parametrize("case_id", CASES)
def test_cycles_per_switch_and_ipc_are_the_counted_runs_totals(case_id: str) -> None:
    samples = tidy.samples_from_suite(_suite(RECORDED))
    row = analyse.summarise(samples, [cases.get_case(case_id)], {}).iloc[0]
    want = _by_hand(RECORDED, case_id)
    for name in HARDWARE_COUNTERS:
        column = f"{name}_per_switch"
        assert row[column] == pytest.approx(want[column], rel=1e-12), column
    assert row["ipc"] == pytest.approx(want["ipc"], rel=1e-12)
    assert row["ns_per_switch"] == pytest.approx(want["ns_per_switch"], rel=1e-12)
    assert row["task_clock_ns_per_switch"] == pytest.approx(
        want["task_clock_ns_per_switch"], rel=1e-12
    )
    # getrusage's count of the timed values is the OS switches figure, inside its range.
    assert row["os_ctx_source"] == "getrusage"
    assert analyse.check_verdict(row["os_ctx_check"]) == "ok"


def test_the_report_shows_the_hardware_counters(tmp_path: Path) -> None:
    out, _ = _folder(tmp_path, "pmu", RECORDED)
    data = read.load(out)
    text = report.render_markdown(data, {})
    section = text[text.index("## Counters per switch") :].split("\n## ", 1)[0]
    assert "exposes no hardware counters" not in section
    lines = section.splitlines()
    header = next(x for x in lines if x.startswith("| case |"))
    names = [cell.strip() for cell in header.strip("|").split("|")]
    for column in ("cycles", "instructions", "IPC", "branch misses", "cache misses"):
        assert column in names
    for case_id in CASES:
        want = _by_hand(RECORDED, case_id)
        line = next(x for x in lines if x.startswith(f"| `{case_id}` |"))
        cells = dict(zip(names, (c.strip() for c in line.strip("|").split("|")), strict=True))
        assert cells["cycles"] == num(want["cycles_per_switch"], 4)
        assert cells["instructions"] == num(want["instructions_per_switch"], 4)
        assert cells["IPC"] == num(want["ipc"], 2)
        assert cells["branch misses"] == num(want["branch_misses_per_switch"], 2)
        assert cells["cache misses"] == num(want["cache_misses_per_switch"], 2)
        assert float(cells["cycles"]) > 0 and "unavailable" not in line


def test_compare_takes_the_clock_from_the_cycles_counter(tmp_path: Path) -> None:
    """Run B is run A on a core whose cycles counter runs 1.5 times as fast: the same
    ns per switch, 1.5 times the cycles, in the normalised view."""
    a, _ = _folder(tmp_path, "a", RECORDED)
    b, _ = _folder(tmp_path, "b", _scaled_clock(RECORDED, 1.5))
    runs = comparison.load_runs([a, b])
    table = comparison.compare(runs)
    for i, recorded in enumerate((RECORDED, _scaled_clock(RECORDED, 1.5))):
        for case_id in CASES:
            want = _by_hand(recorded, case_id)
            row = runs[i].ok_row(case_id)
            assert row is not None
            ghz, source = comparison.clock_ghz(runs[i], row)
            assert source == "cycles counter"
            assert ghz == pytest.approx(want["ghz"], rel=1e-9)
            mine = table[(table["run"] == i) & (table["case"] == case_id)].iloc[0]
            assert mine["cycles_source"] == "cycles counter"
            assert mine["cycles_per_switch"] == pytest.approx(
                want["ns_per_switch"] * want["ghz"], rel=1e-9
            )
            syscall = _by_hand(recorded, "c.syscall.getppid")["ns_per_switch"]
            goroutine = _by_hand(recorded, "go.chan.p1")["ns_per_switch"]
            assert mine["x_null_syscall"] == pytest.approx(want["ns_per_switch"] / syscall)
            assert mine["x_go_chan_p1"] == pytest.approx(want["ns_per_switch"] / goroutine)
    # The table of what differs gives the rate those cycles rest on: the median of the
    # cases' counter rates, not the clock measured at the start of the run.
    facts = {name: (values, differs) for name, values, differs in comparison.metadata_diff(runs)}
    values, differs = facts["clock (GHz)"]
    for i, recorded in enumerate((RECORDED, _scaled_clock(RECORDED, 1.5))):
        rate = float(np.median([_by_hand(recorded, c)["ghz"] for c in CASES]))
        assert values[i] == f"{rate:.2f} (cycles counter)"
        assert abs(rate - runs[i].host["clock"]["ghz"]) > 0.1  # not the measured clock
    assert differs
    first = table[table["run"] == 0].set_index("case")["cycles_per_switch"]
    second = table[table["run"] == 1].set_index("case")["cycles_per_switch"]
    assert np.allclose(second / first, 1.5, rtol=1e-3)

    # The normalised view of compare.md shows those figures.
    text = compare.render_markdown(
        runs, table, {"ns": [], "ratio": [], "pairs": [], "ring": [], "memory": []}
    )
    view = text[text.index("## Normalised") :].split("\n## ", 1)[0]
    assert "from the cycles counter where the machine has one" in view
    for case_id in CASES:
        line = next(x for x in view.splitlines() if x.startswith(f"| `{case_id}` |"))
        cells = [c.strip() for c in line.strip("|").split("|")][1:]
        for i, cell in enumerate(cells):
            mine = table[(table["run"] == i) & (table["case"] == case_id)].iloc[0]
            assert cell.split(" · ")[0] == num(mine["cycles_per_switch"], 3)
            assert not math.isnan(mine["cycles_per_switch"])


def test_without_a_cycles_count_the_clock_is_the_measured_one(tmp_path: Path) -> None:
    """The fallback is taken only where the counter is missing, and says so."""
    unread = json.loads(json.dumps(RECORDED))
    for fed in unread.values():
        for process in fed["processes"]:
            elapsed, perf = process["counted"]
            process["counted"] = (elapsed, (*perf[:4], None, None, None, None))
            process["values"] = [tuple(v) for v in process["values"]]
    out, _ = _folder(tmp_path, "nopmu", unread)
    (run,) = comparison.load_runs([out])
    row = run.ok_row("c.futex.same-core")
    assert row is not None and math.isnan(row["cycles_per_switch"]) and math.isnan(row["ipc"])
    ghz, source = comparison.clock_ghz(run, row)
    assert source == "measured clock" and ghz == pytest.approx(run.host["clock"]["ghz"])
    summary = dataclasses.replace(read.load(out)).summary
    assert summary["cycles_per_switch"].isna().all()
