"""The machine's facts: one list of labels for the report's Host section and compare."""

import json

from bench.analysis import comparison
from bench.analysis.host_facts import CLOCK, machine_facts
from bench.render.host_facts import host_lines
from tests.conftest import REFERENCE, copy_reference


def _labels(lines: list[str]) -> list[str]:
    # The Markdown cells unescaped (perf\\_event\\_paranoid).
    return [line.split(" | ")[0].removeprefix("| ").replace("\\", "") for line in lines[2:]]


def test_report_and_compare_list_the_same_facts_under_the_same_labels(tmp_path):
    other = copy_reference(tmp_path, "other")
    host = json.loads((other / "host.json").read_text())
    host["kernel"] = "6.1.0-other"
    (other / "host.json").write_text(json.dumps(host))
    runs = comparison.load_runs([REFERENCE, other])
    diff = comparison.metadata_diff(runs)
    report_labels = _labels(host_lines(runs[0].host))
    # compare adds what belongs to the run, not the machine: its canary and profile.
    assert [name for name, _, _ in diff] == [*report_labels, comparison.CANARY, "profile"]
    differing = [name for name, _, differs in diff if differs]
    assert differing == ["kernel"]


def test_a_missing_fact_is_none_not_a_made_up_value():
    facts = machine_facts({})
    assert facts["CPU"] is None and facts[CLOCK] is None
    assert facts["hardware counters (cycles)"] is None
    assert (
        machine_facts({"counters": {"cycles": {"available": False}}})["hardware counters (cycles)"]
        == "no"
    )
