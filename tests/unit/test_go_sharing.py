"""What a `run --go` measures once and shares between its folders (bench.measure.toolchains):
the C cases and the agreement check, copied from the first folder, never re-measured."""

from pathlib import Path

from bench.catalogue import cases
from bench.catalogue.profiles import PROFILES
from bench.measure import runner, session
from bench.measure.toolchains import COPIED, Arm, share_agreement, share_c_cases
from bench.native.build import Artifacts
from bench.native.toolchains import Toolchain
from bench.results.schema import AGREEMENT_CSV

GO_CASE, C_CASE = "go.chan.p1", "c.futex.same-core"


def _arm(folder: Path, name: str, selected: list[str]) -> Arm:
    (folder / name / "raw").mkdir(parents=True)
    run = session.RunState(
        folder / name, PROFILES["smoke"], [cases.get_case(c) for c in selected], [], "t"
    )
    stub = Artifacts(folder / "lib", folder / "check", folder / name / "switchdriver")
    return Arm(Toolchain(name, name, f"go version {name}"), stub, run)


def _ok(arm: Arm, case_id: str, text: str) -> None:
    raw = arm.run.out / "raw" / f"{case_id}.json"
    raw.write_text(text)
    arm.run.outcomes.append(
        runner.CaseOutcome(cases.get_case(case_id), "ok", "", raw, stop="one batch")
    )


def test_c_cases_are_copied_into_later_folders_in_the_first_folders_order(tmp_path):
    first = _arm(tmp_path, "go1.22.12", [GO_CASE, C_CASE])
    second = _arm(tmp_path, "local", [GO_CASE])
    _ok(first, GO_CASE, "old go")
    _ok(first, C_CASE, "c, once")
    _ok(second, GO_CASE, "new go")
    share_c_cases([first, second])
    assert [c.id for c in second.run.selected] == [GO_CASE, C_CASE]
    copied = next(o for o in second.run.outcomes if o.case.id == C_CASE)
    assert copied.raw_json == second.run.out / "raw" / f"{C_CASE}.json"
    assert copied.raw_json.read_text() == "c, once"
    assert COPIED in copied.stop and "../go1.22.12" in copied.stop
    # The Go case stays the second folder's own; sharing twice changes nothing.
    share_c_cases([first, second])
    assert (second.run.out / "raw" / f"{GO_CASE}.json").read_text() == "new go"
    assert sorted(o.case.id for o in second.run.outcomes) == sorted([GO_CASE, C_CASE])


def test_a_failed_c_case_is_shared_as_failed(tmp_path):
    first = _arm(tmp_path, "a", [C_CASE])
    second = _arm(tmp_path, "b", [])
    first.run.outcomes.append(runner.CaseOutcome(cases.get_case(C_CASE), "failed", "broke"))
    share_c_cases([first, second])
    [shared] = second.run.outcomes
    assert (shared.status, shared.reason, shared.raw_json) == ("failed", "broke", None)


def test_the_agreement_check_is_copied_with_its_state(tmp_path):
    first, second = _arm(tmp_path, "a", []), _arm(tmp_path, "b", [])
    second.run.agreement = False
    first.run.agreement, first.run.agreement_unavailable = True, ""
    (first.run.out / AGREEMENT_CSV).write_text("case\nc.pipe.threads.same-core\n")
    share_agreement([first, second])
    assert second.run.agreement
    assert (second.run.out / AGREEMENT_CSV).read_text() == "case\nc.pipe.threads.same-core\n"


def test_an_agreement_check_that_could_not_run_says_why_in_every_folder(tmp_path):
    first, second = _arm(tmp_path, "a", []), _arm(tmp_path, "b", [])
    second.run.agreement = False
    first.run.agreement_unavailable = "perf is not installed"
    share_agreement([first, second])
    assert second.run.agreement and second.run.agreement_unavailable == "perf is not installed"
    assert not (second.run.out / AGREEMENT_CSV).exists()


def test_each_toolchain_goes_first_in_turn():
    from bench.measure.toolchains import _rotated

    orders = [_rotated(3, start) for start in range(3)]
    assert all(sorted(o) == [0, 1, 2] for o in orders)
    assert sorted(o[0] for o in orders) == [0, 1, 2]
