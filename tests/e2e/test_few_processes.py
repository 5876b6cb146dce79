"""A CI from fewer worker processes than stats.MIN_PROCESSES_FOR_CI covers only
those processes: such a case never stops on its CI target, the summary marks it in
`trust`, and the report and compare label its CI as within-process."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.analysis import stats
from bench.render import compare, report
from tests.conftest import copy_reference, scale_times

MIN = stats.MIN_PROCESSES_FOR_CI


GOROUTINE, THREAD = "go.chan.p1", "c.condvar.same-core"


# A case whose samples the tests move into 2 worker processes.
TWO_PROCESSES = "c.futex.same-core"


def _one_process(folder: Path, case: str = GOROUTINE, count: int = 1) -> None:
    """Every sample of `case` moved into one worker process (or `count`), and its
    summary row to match."""
    samples = pd.read_csv(folder / "samples.csv")
    mine = samples["case"] == case
    samples.loc[mine, "process"] = (samples.loc[mine, "process"] - 1) % count + 1
    samples.to_csv(folder / "samples.csv", index=False)
    summary = pd.read_csv(folder / "summary.csv")
    row = summary["case"] == case
    summary.loc[row, "processes"] = count
    first = summary[row].iloc[0]
    summary.loc[row, "trust"] = stats.trust(
        first["ns_per_switch"], first["ci_low"], first["ci_high"], first["r_squared"], count
    )
    summary.to_csv(folder / "summary.csv", index=False)


def _enough_processes(folder: Path) -> None:
    """Every measured case's summary row says MIN processes or more."""
    summary = pd.read_csv(folder / "summary.csv")
    summary["processes"] = summary["processes"].clip(lower=MIN)
    summary.to_csv(folder / "summary.csv", index=False)


def _rows(text: str, case: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"| `{case}` |")]


def test_the_report_labels_a_within_process_ci(tmp_path: Path) -> None:
    folder = copy_reference(tmp_path, "quickish")
    _one_process(folder)
    _one_process(folder, TWO_PROCESSES, 2)
    text = report.write_report(folder).read_text()
    table = text.split("## All cases")[1].split("## Precision")[0]
    (go,) = _rows(table, GOROUTINE)
    assert "(within one process)" in go
    (thread,) = _rows(table, THREAD)  # 10 processes: an interval across them
    assert "within" not in thread
    # The sentence under the table, computed from the data: go.chan.p1 and a case cut
    # to 2 processes.
    summary = pd.read_csv(folder / "summary.csv")
    few = int(((summary["status"] == "ok") & (summary["processes"] < MIN)).sum())
    assert few > 1
    measured = int((summary["status"] == "ok").sum())  # the skipped ones are not counted
    assert f"{few} of {measured} measured cases rest on fewer than {MIN} worker" in table
    assert "*within 2 processes* or *within one process*" in table
    assert "separate runs will differ by more than that interval" in table
    # The precision table labels the CI's half-width and flags the case.
    (line,) = _rows(text.split("## Precision")[1].split("\n## ")[0], GOROUTINE)
    assert "% (within one process) |" in line and "CI within one process" in line
    # The answer at the top quotes the goroutine switch's CI with its label too.
    assert ", within one process), " in text.split("## All cases")[0]


def test_the_report_says_nothing_of_it_when_every_case_has_enough(tmp_path: Path) -> None:
    folder = copy_reference(tmp_path, "enough")
    _enough_processes(folder)
    text = report.write_report(folder).read_text()
    assert "(within" not in text and ", within" not in text
    assert "worker processes, and their CI is marked" not in text


def _compare(tmp_path: Path, a: Path, b: Path) -> tuple[pd.DataFrame, str]:
    md_path = compare.write_comparison([a, b], tmp_path / "cmp")
    table = pd.read_csv(md_path.parent / "compare.csv")
    return table[table["run"] == 1].set_index("case"), md_path.read_text()


def test_compare_does_not_call_a_within_process_difference_significant(tmp_path: Path) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    for folder in (a, b):
        _one_process(folder)
        _one_process(folder, TWO_PROCESSES, 2)
    scale_times(b, 1.6)
    second, text = _compare(tmp_path, a, b)
    # go.chan.p1 took one process in each run: its ratio's CI excludes 1, but that CI
    # covers only the one process of each run.
    go = second.loc[GOROUTINE]
    assert go["ratio_ci_low"] > 1.1
    assert pd.isna(go["significant"])
    assert go["verdict"] == "looks slower (CI within one process: not judged)"
    assert str(second.loc[THREAD, "significant"]) == "True"
    assert second.loc[THREAD, "verdict"] == "slower"

    every = text.split("## Every case")[1].split("\n## ")[0]
    (go_line,) = _rows(every, GOROUTINE)
    assert go_line.count(", within one process)") == 2  # both runs' CIs
    assert "looks slower (CI within one process: not judged)" in go_line
    (thread_line,) = _rows(every, THREAD)
    assert "within" not in thread_line and "**slower**" in thread_line
    differences = text.split("## Differences")[1].split("## Every case")[0]
    unjudged = int((second["significant"].isna() & second["ratio_ci_low"].notna()).sum())
    assert unjudged > 1  # go.chan.p1 and the case cut to 2 processes
    assert f"; {unjudged} more look different, but on a within-process CI: not judged" in (
        differences
    )
    assert f"rests on fewer than {MIN} worker processes" in differences


def test_compare_marks_a_within_process_ci_on_either_side(tmp_path: Path) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    for folder in (a, b):
        _enough_processes(folder)
    _one_process(b)  # only the second run took one process of go.chan.p1
    scale_times(b, 1.6)
    second, text = _compare(tmp_path, a, b)
    assert pd.isna(second.loc[GOROUTINE, "significant"])
    assert second.loc[GOROUTINE, "verdict"].startswith("looks slower")
    (go_line,) = _rows(text.split("## Every case")[1].split("\n## ")[0], GOROUTINE)
    assert go_line.count("within one process") == 2  # b's CI, and the verdict


def test_compare_with_enough_processes_judges_and_marks_nothing(tmp_path: Path) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    for folder in (a, b):
        _enough_processes(folder)
    scale_times(b, 1.6)
    second, text = _compare(tmp_path, a, b)
    assert str(second.loc[GOROUTINE, "significant"]) == "True"
    assert second.loc[GOROUTINE, "verdict"] == "slower"
    assert "within one process" not in text and "within-process" not in text
