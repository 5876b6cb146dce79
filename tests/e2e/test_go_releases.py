"""End-to-end: `switchbench run --go`, offline with the installed toolchain under two
spellings (its exact version and `local`), its refusals, and one fetched release where
the network allows."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from bench.errors import UsageError
from bench.native.build import Artifacts
from bench.native.toolchains import prepare, resolve, resumed_artifacts
from tests.conftest import switchbench

GO_CASE, C_CASE = "go.chan.p1", "c.futex.same-core"


def _installed() -> str:
    done = subprocess.run(
        ["go", "env", "GOVERSION"],
        env={**os.environ, "GOTOOLCHAIN": "local"},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def releases_run(tmp_path_factory, artifacts):
    exact = _installed()
    out = tmp_path_factory.mktemp("go") / "releases"
    done = switchbench(
        "run", "--profile", "smoke", "--go", f"{exact},local",
        "--only", f"{GO_CASE},{C_CASE}", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return exact, out, done


def test_each_toolchain_has_a_complete_folder(releases_run):
    exact, out, done = releases_run
    assert done.stdout.strip().splitlines()[-1] == str(out)
    for name in (exact, "local"):
        summary = pd.read_csv(out / name / "summary.csv")
        assert set(summary["case"]) == {GO_CASE, C_CASE}
        assert (summary["status"] == "ok").all()
        assert (out / name / "report.md").is_file()
        host = json.loads((out / name / "host.json").read_text())
        assert host["go_toolchain"]["requested"] == name
        assert host["go_toolchain"]["version"] == exact
        assert f" {exact} " in host["versions"]["go"]


def test_go_cases_are_measured_per_toolchain_and_c_cases_once(releases_run):
    exact, out, _ = releases_run
    first, second = out / exact / "raw", out / "local" / "raw"
    # The C case was measured in the first folder and copied: byte for byte the same.
    assert (first / f"{C_CASE}.json").read_bytes() == (second / f"{C_CASE}.json").read_bytes()
    run = json.loads((out / "local" / "run.json").read_text())
    assert "measured once, copied from" in run["cases"][C_CASE]["stop"]
    # The Go case ran in each folder's own worker processes.
    assert (first / f"{GO_CASE}.json").read_bytes() != (second / f"{GO_CASE}.json").read_bytes()
    index = json.loads((out / "go-releases.json").read_text())
    assert [t["folder"] for t in index["toolchains"]] == [exact, "local"]
    assert index["c_cases_measured_in"] == exact


def test_the_comparison_sets_the_toolchains_side_by_side(releases_run):
    exact, out, _ = releases_run
    text = (out / "compare" / "compare.md").read_text()
    assert f"# switchbench compare: {exact} vs local" in text
    go_row = next(ln for ln in text.splitlines() if ln.startswith("| Go |"))
    # One toolchain under two names: the Go version is listed and not marked as differing.
    assert go_row.count(exact) == 2 and "**yes**" not in go_row
    table = pd.read_csv(out / "compare" / "compare.csv")
    assert set(table["case"]) == {GO_CASE, C_CASE}


def test_a_second_run_rebuilds_nothing(releases_run):
    exact, _, _ = releases_run
    base = Artifacts.locate()
    built = prepare(f"{exact},local", base)
    programs = [a.go_driver for _, a in built] + [a.go_minimal for _, a in built]
    before = {p: p.stat().st_mtime_ns for p in programs}
    prepare(f"{exact},local", base)
    assert {p: p.stat().st_mtime_ns for p in programs} == before


def test_a_folder_of_the_run_resumes_with_its_own_toolchain(releases_run):
    exact, out, _ = releases_run
    base = Artifacts.locate()
    mine = resumed_artifacts(out / exact, base)
    assert mine.go_driver.parent.name == exact
    assert resumed_artifacts(out / "compare", base) == base  # no go_toolchain: unchanged
    host = json.loads((out / "local" / "host.json").read_text())
    host["go_toolchain"]["version"] = "go1.22.0"
    moved = out.parent / "moved"
    moved.mkdir()
    (moved / "host.json").write_text(json.dumps(host))
    with pytest.raises(UsageError, match="start a new run"):
        resumed_artifacts(moved, base)


def _refused(tmp_path: Path, go: str, env: dict | None = None) -> str:
    out = tmp_path / "never"
    done = switchbench(
        "run", "--profile", "smoke", "--go", go, "--only", GO_CASE, "--out", str(out),
        env=env,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert not out.exists()  # nothing half-written
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("switchbench: error: --go")
    return last


def test_a_malformed_version_is_refused(tmp_path):
    assert "not a Go release name" in _refused(tmp_path, "go1.22.x")


def test_a_version_older_than_go_mod_is_refused(tmp_path):
    assert "older than go/go.mod allows" in _refused(tmp_path, "local,go1.21.13")


def test_a_toolchain_neither_cached_nor_reachable_is_refused(tmp_path):
    cache = tmp_path / "empty-module-cache"
    cache.mkdir()
    env = {**os.environ, "GOPROXY": "off", "GOMODCACHE": str(cache)}
    assert "could not be fetched" in _refused(tmp_path, "go1.22.12", env)


def test_a_toolchain_that_fails_to_build_is_refused(tmp_path, artifacts):
    fake = tmp_path / "go"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = build ]; then echo "fake: this toolchain cannot build" >&2; exit 1; fi\n'
        'if [ "$1" = version ]; then echo "go version fake-for-test"; exit 0; fi\n'
        f'exec {shutil.which("go")} "$@"\n'
    )
    fake.chmod(0o755)
    driver = Artifacts.locate().go_driver
    last = _refused(tmp_path, "local", {**os.environ, "GO": str(fake)})
    assert "building go/ with" in last and "failed" in last
    assert driver.is_file()  # the installed build is untouched


def test_an_unknown_release_is_refused(tmp_path):
    last = _refused(tmp_path, "go1.22.99")
    if "could not be fetched" in last:
        pytest.skip(f"offline: the module proxy could not be asked about go1.22.99 ({last})")
    assert "is not a Go release the module proxy knows" in last


def test_a_fetched_release_builds_drivers_of_that_release(tmp_path):
    try:
        toolchain = resolve("go1.22.12")
    except UsageError as e:
        pytest.skip(f"go1.22.12 is not cached and cannot be fetched here: {e}")
    [(_, built)] = prepare("go1.22.12", Artifacts.locate())
    assert toolchain.version == "go1.22.12"
    done = subprocess.run(
        [str(built.go_driver), "-leaks", "sender", "-leak-version", "fixed", "-k", "4",
         "-profile-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout.strip().splitlines()[-1])["go_version"] == "go1.22.12"
    assert (built.go_driver.parent / "switchdriver-leakprofile.unavailable").is_file() or (
        built.go_leak_driver is not None and built.go_leak_driver.is_file()
    )


def test_the_index_names_each_release_and_the_shared_c_cases(releases_run):
    exact, out, _ = releases_run
    text = (out / "go-releases.md").read_text()
    assert (out / "go-releases.html").is_file()
    assert f"| {exact} | go version {exact} " in text
    assert "| local | go version " in text
    assert "The C cases (1) were measured once" in text
    assert "read its Go rows" in text


def test_an_unfinished_folder_of_the_run_resumes(releases_run, tmp_path):
    exact, out, _ = releases_run
    folder = tmp_path / exact
    shutil.copytree(out / exact, folder)
    run = json.loads((folder / "run.json").read_text())
    del run["cases"][GO_CASE]
    run["status"] = "interrupted"
    (folder / "run.json").write_text(json.dumps(run))
    (folder / "raw" / f"{GO_CASE}.json").unlink()
    done = switchbench("run", "--resume", str(folder))
    assert done.returncode == 0, done.stderr
    summary = pd.read_csv(folder / "summary.csv")
    assert summary.set_index("case").loc[GO_CASE, "status"] == "ok"
    assert json.loads((folder / "host.json").read_text())["go_toolchain"]["requested"] == exact
