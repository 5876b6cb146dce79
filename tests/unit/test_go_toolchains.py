"""--go's spellings, go.mod's floor, the release order and the timer semantics in words
(bench.native.toolchains, bench.render.timers): no go command is run here."""

import argparse
import math

import pandas as pd
import pytest

from bench.cli.run import add_arguments
from bench.errors import UsageError
from bench.native.build import Artifacts
from bench.native.toolchains import (
    LOCAL,
    Toolchain,
    artifacts_for,
    check_floor,
    module_floor,
    parse,
    release_key,
)
from bench.render import timers


def test_release_order_is_the_go_commands():
    order = ["1.22", "go1.22beta1", "go1.22rc1", "go1.22rc2", "go1.22.0", "go1.22.12", "go1.23.0"]
    keys = [release_key(v) for v in order]
    assert None not in keys
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("bad", ["gox", "1.22.1x", "go2.0.0", "go1.22.1.1", "go 1.22", "-go1.22"])
def test_malformed_names_are_not_releases(bad):
    assert release_key(bad) is None
    with pytest.raises(UsageError, match="not a Go release name"):
        parse(bad)


def test_parse_keeps_the_order_and_takes_local():
    assert parse("go1.26.8, local,go1.22.12") == ["go1.26.8", LOCAL, "go1.22.12"]


@pytest.mark.parametrize("text", ["", "go1.22.12,", ",local", "go1.22.12,,local"])
def test_an_empty_entry_is_refused(text):
    with pytest.raises(UsageError, match="empty entry"):
        parse(text)


def test_a_repeated_name_is_refused():
    with pytest.raises(UsageError, match=r"go1\.22\.12 more than once"):
        parse("go1.22.12,local,go1.22.12")


def test_the_floor_is_go_mods_go_line(tmp_path):
    mod = tmp_path / "go.mod"
    mod.write_text("module x\n\ngo 1.23\n\nrequire golang.org/x/sys v0.30.0\n")
    assert module_floor(mod) == "1.23"
    assert release_key(module_floor()) is not None  # the checkout's own go.mod has one
    mod.write_text("module x\n")
    with pytest.raises(UsageError, match="no `go` line"):
        module_floor(mod)


def test_a_release_older_than_go_mod_is_refused():
    check_floor("go1.23.0", "1.23")
    check_floor("go1.23rc1", "1.23")  # a prerelease of the language version satisfies it
    check_floor(LOCAL, "1.23")  # the go command judges the installed one itself
    with pytest.raises(UsageError, match=r"older than go/go.mod allows \(go 1.23\)"):
        check_floor("go1.22.12", "1.23")


def test_a_release_before_toolchain_fetching_is_refused():
    with pytest.raises(UsageError, match="cannot be selected by name"):
        check_floor("go1.20.14", "1.20")


def test_each_toolchain_builds_into_its_own_folder(tmp_path):
    base = Artifacts(
        tmp_path / "libswitchbench.so",
        tmp_path / "check",
        tmp_path / "bin" / "switchdriver",
        tmp_path / "bin" / "switchdriver-leakprofile",
        tmp_path / "bin" / "minimal-go",
        tmp_path / "minimal-c",
    )
    old = artifacts_for(base, Toolchain("go1.22.12", "go1.22.12", "go version go1.22.12"))
    new = artifacts_for(base, Toolchain(LOCAL, "go1.26.8", "go version go1.26.8"))
    odd = artifacts_for(base, Toolchain(LOCAL, "devel go1.27-abc Tue", "go version devel"))
    assert old.go_driver == tmp_path / "bin" / "go1.22.12" / "switchdriver"
    assert new.go_minimal == tmp_path / "bin" / "go1.26.8" / "minimal-go"
    assert odd.go_driver.parent.parent == tmp_path / "bin"
    assert "/" not in odd.go_driver.parent.name and " " not in odd.go_driver.parent.name
    assert old.c_library == base.c_library and old.c_minimal == base.c_minimal


def test_run_takes_go_and_leaves_it_unset_by_default():
    p = argparse.ArgumentParser()
    add_arguments(p)
    assert p.parse_args([]).go is None
    assert p.parse_args(["--go", "go1.22.12,local"]).go == "go1.22.12,local"


def test_timer_semantics_follow_the_release_and_godebug():
    assert timers.semantics("go1.26.8", "asynctimerchan=0").startswith(timers.NEW)
    assert timers.semantics("go1.26.8", "asynctimerchan=1").startswith(timers.OLD)
    # Before Go 1.23 the setting does not exist: what GODEBUG says changes nothing.
    assert timers.semantics("go1.22.12", "asynctimerchan=0").startswith(timers.OLD)


def _leaks(version: object, rows: list[tuple[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"scenario": s, "version": "leaking", "go_version": version, "godebug": g}
            for s, g in rows
        ]
    )


def test_timer_lines_name_each_ticker_scenarios_semantics():
    new = _leaks(
        "go1.26.8",
        [
            ("sender", "asynctimerchan=1"),
            ("ticker", "asynctimerchan=1"),
            ("ticker-go123", "asynctimerchan=0"),
        ],
    )
    text = "\n".join(timers.section_lines(new))
    assert "under go1.26.8" in text
    ticker, go123 = (ln for ln in text.splitlines() if ln.startswith("- "))
    assert "Go 1.23" in go123 and "asynctimerchan=0" in go123
    assert "before Go 1.23" in ticker and "asynctimerchan=1" in ticker


def test_a_release_before_1_23_runs_old_timers_in_both_scenarios():
    # The ticker rows failed (no GODEBUG reported); another row names the release.
    old = _leaks("go1.22.12", [("sender", "asynctimerchan=0")])
    old = pd.concat([old, _leaks(math.nan, [("ticker", math.nan), ("ticker-go123", math.nan)])])
    lines = [ln for ln in timers.section_lines(old) if ln.startswith("- ")]
    assert len(lines) == 2
    assert all("before Go 1.23" in ln and "not measured" in ln for ln in lines)


def test_no_timer_lines_without_a_release():
    assert timers.section_lines(None) == []
    assert timers.section_lines(_leaks(math.nan, [("ticker", math.nan)])) == []


@pytest.mark.parametrize(
    "index",
    [
        {"toolchains": [], "c_cases_measured_in": "a", "compare": "compare"},
        {
            "toolchains": [{"requested": "x", "version": "x", "folder": "../elsewhere"}],
            "c_cases_measured_in": "x",
            "compare": "compare",
        },
        {
            "toolchains": [{"requested": "x", "version": "x", "folder": "x"}],
            "c_cases_measured_in": "x",
            "compare": "/tmp",
        },
        {"toolchains": [{"requested": 1, "version": "x", "folder": "x"}]},
    ],
)
def test_a_damaged_index_is_refused_before_any_folder_is_read(tmp_path, index):
    import json

    from bench.render.go_releases import render_markdown

    (tmp_path / "go-releases.json").write_text(json.dumps(index))
    with pytest.raises(UsageError, match="is damaged"):
        render_markdown(tmp_path)


def test_resume_with_go_is_refused_before_anything_is_built(tmp_path, capsys):
    from bench.cli.main import main

    assert main(["run", "--resume", str(tmp_path / "none"), "--go", LOCAL]) == 2
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "--resume does not take --go" in said[0]


def test_a_used_out_or_a_bad_reference_is_refused_before_anything_is_built(tmp_path, capsys):
    from bench.cli.main import main

    used = tmp_path / "used"
    used.mkdir()
    (used / "keep").write_text("")
    assert main(["run", "--go", LOCAL, "--out", str(used)]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    fresh = tmp_path / "fresh"
    assert main(["run", "--go", LOCAL, "--out", str(fresh), "--compare", str(tmp_path / "no")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert not fresh.exists() and [p.name for p in used.iterdir()] == ["keep"]
