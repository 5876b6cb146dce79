"""`--go VERSION[,VERSION…]` → checked Go toolchains, each with its own built drivers.

The go command selects, fetches and caches released toolchains itself: with
GOTOOLCHAIN=go1.22.12 in its environment it downloads golang.org/toolchain from the
module proxy once (into GOMODCACHE) and re-executes that release. This module only
names the release for it: nothing is downloaded or unpacked by hand. Each toolchain's
Go programs (the driver, the leak-profile driver, the minimal loop) are built into
go/bin/<exact version>/ with the same content stamps as bench/native/build.py, so a
second run rebuilds nothing. Every check (spelling, go.mod's floor, the fetch, the
build) happens before a result folder is made, so a bad version leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bench.errors import UsageError
from bench.native.build import (
    GO_LEAK_DRIVER,
    GO_MINIMAL,
    Artifacts,
    _go,
    build_go,
    build_go_leak_profile,
    build_go_minimal,
    source_root,
)
from bench.results.checks import JSON_LIMIT
from bench.results.schema import HOST_JSON
from bench.results.write import read_json

# The go command's own word for "the toolchain installed here" (GOTOOLCHAIN=local).
LOCAL = "local"
# A release's name as GOTOOLCHAIN takes it: go1.N, go1.N.P, go1.NrcK, go1.NbetaK.
_RELEASE = re.compile(r"go1\.(\d{1,3})(?:\.(\d{1,3})|(rc|beta)(\d{1,2}))?")
# Toolchains are fetched by name only from Go 1.21 on (golang.org/toolchain starts there).
FIRST_FETCHABLE_MINOR = 21
FETCH_TIMEOUT_S = 600
TOOLCHAIN_MODULE = "golang.org/toolchain"


@dataclass(frozen=True)
class Toolchain:
    """One toolchain as the user named it and as the go command resolved it."""

    spelling: str  # as given to --go: "go1.22.12" or "local"; names its result folder
    version: str  # `go env GOVERSION` under it, e.g. "go1.22.12"
    version_line: str  # `go version` under it, for host.json

    @property
    def env(self) -> dict[str, str]:
        """The environment that makes the go command run this toolchain."""
        return {"GOTOOLCHAIN": self.spelling}


def release_key(text: str) -> tuple[int, int, int, int, int] | None:
    """An order on Go versions as the go command orders them ("1.22" < "1.22rc1" <
    "1.22.0" < "1.22.1"), for "go1.22.1" or "1.22"; None when it is not one."""
    m = _RELEASE.fullmatch(text if text.startswith("go") else "go" + text)
    if not m:
        return None
    minor, patch, stage, n = m.groups()
    if patch is not None:
        return (1, int(minor), 3, 0, int(patch))
    if stage is not None:
        return (1, int(minor), 1 if stage == "beta" else 2, int(n), 0)
    return (1, int(minor), 0, 0, 0)  # a language version: below all of its releases


def parse(text: str) -> list[str]:
    """--go's comma-separated list → spellings, checked for form and repeats."""
    words = [w.strip() for w in text.split(",")]
    if not text.strip() or any(not w for w in words):
        raise UsageError(
            f"--go {text!r} has an empty entry; give releases separated by commas, "
            "e.g. --go go1.22.12,local"
        )
    for w in words:
        if w != LOCAL and release_key(w) is None:
            raise UsageError(
                f"--go: {w!r} is not a Go release name; write it as GOTOOLCHAIN does, "
                f"e.g. go1.22.12 (see https://go.dev/dl/), or {LOCAL} for the installed go"
            )
    repeated = sorted({w for w in words if words.count(w) > 1})
    if repeated:
        raise UsageError(f"--go names {', '.join(repeated)} more than once; name each once")
    return words


def module_floor(go_mod: Path | None = None) -> str:
    """The `go` line of go/go.mod (e.g. "1.22"): the oldest release that builds it."""
    path = go_mod or source_root() / "go" / "go.mod"
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "go":
            return fields[1]
    raise UsageError(f"{path} has no `go` line; restore it (e.g. `go 1.22`)")


def check_floor(spelling: str, floor: str) -> None:
    """A named release older than go.mod (or than toolchain fetching) allows → UsageError."""
    key, low = release_key(spelling), release_key(floor)
    if key is None or low is None:
        return  # local: the go command itself refuses a go.mod newer than it
    if key < low:
        raise UsageError(
            f"--go: {spelling} is older than go/go.mod allows (go {floor}); "
            f"name go{floor}.0 or a newer release"
        )
    if key[1] < FIRST_FETCHABLE_MINOR:
        raise UsageError(
            f"--go: {spelling} cannot be selected by name (the go command fetches "
            f"releases from go1.{FIRST_FETCHABLE_MINOR}.0 on); name a newer release"
        )


def _go_says(done: subprocess.CompletedProcess[str]) -> str:
    """What the go command said, in one line: its error lines without the progress."""
    lines = [ln.strip() for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("go: downloading")]
    return " ".join(lines)[:400] or f"exit status {done.returncode}"


def _fetch_error(spelling: str, said: str) -> UsageError:
    """The go command's failure to fetch a toolchain, summarised in one line."""
    cached = f"GOMODCACHE/{TOOLCHAIN_MODULE}@v0.0.1-{spelling}.<os>-<arch>"
    if "server response" in said or re.search(r"\b(403|404|410)\b", said):
        return UsageError(
            f"--go: {spelling} is not a Go release the module proxy knows ({said}); "
            "see https://go.dev/dl/ for the releases"
        )
    return UsageError(
        f"--go: {spelling} is not in the module cache ({cached}) and could not be "
        f"fetched: {said}; connect to the network (or set GOPROXY) once, or name a "
        "cached release"
    )


def _ask(go: str, spelling: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOTOOLCHAIN": spelling}
    try:
        # Run outside the module: go.mod must not steer which toolchain answers.
        return subprocess.run(
            [go, *argv],
            cwd=source_root(),
            env=env,
            capture_output=True,
            text=True,
            timeout=FETCH_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UsageError(
            f"--go: fetching {spelling} took over {FETCH_TIMEOUT_S} s; check the network "
            "and run again"
        ) from None


def resolve(spelling: str) -> Toolchain:
    """The toolchain the go command runs for this name (fetched now if not cached)."""
    go = _go()
    done = _ask(go, spelling, ["env", "GOVERSION"])
    if done.returncode != 0:
        said = _go_says(done)
        if "invalid GOTOOLCHAIN" in said:
            raise UsageError(f"--go: {said}; name a release such as go1.22.12")
        raise _fetch_error(spelling, said)
    version = done.stdout.strip()
    if spelling != LOCAL and version != spelling:
        # GOTOOLCHAIN names a language version too (go1.22): the go command then runs
        # whatever it likes, which is not one release.
        raise UsageError(
            f"--go: {spelling} ran {version or 'nothing'}, not that release; name an "
            "exact release such as go1.22.12"
        )
    line = _ask(go, spelling, ["version"])
    return Toolchain(spelling, version, line.stdout.strip() or version)


def _folder_name(version: str) -> str:
    """A file name for a version string (a devel build's has spaces and colons)."""
    return re.sub(r"[^A-Za-z0-9._+-]", "-", version) or "go"


def artifacts_for(base: Artifacts, toolchain: Toolchain) -> Artifacts:
    """base with its Go programs in go/bin/<version>/ (C artefacts shared)."""
    folder = base.go_driver.parent / _folder_name(toolchain.version)
    return replace(
        base,
        go_driver=folder / base.go_driver.name,
        go_leak_driver=folder / GO_LEAK_DRIVER,
        go_minimal=folder / GO_MINIMAL,
    )


@contextmanager
def _selected(toolchain: Toolchain) -> Iterator[None]:
    """GOTOOLCHAIN set for the builds of bench/native/build.py, which inherit the
    environment; restored afterwards."""
    before = os.environ.get("GOTOOLCHAIN")
    os.environ["GOTOOLCHAIN"] = toolchain.spelling
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("GOTOOLCHAIN", None)
        else:
            os.environ["GOTOOLCHAIN"] = before


def build_for(base: Artifacts, toolchain: Toolchain, quiet: bool = True) -> Artifacts:
    """The Go programs built with this toolchain (cached by stamp); a failed build
    is one UsageError naming the toolchain."""
    artifacts = artifacts_for(base, toolchain)
    with _selected(toolchain):
        try:
            build_go(artifacts, quiet)
            build_go_minimal(artifacts, quiet)
            # A release that lacks the goroutineleak experiment is recorded beside the
            # target as unavailable, not an error (as for the installed go).
            build_go_leak_profile(artifacts, quiet)
        except UsageError:
            raise UsageError(
                f"--go: building go/ with {toolchain.version} failed (its output above); "
                "drop that release from --go or fix the sources for it"
            ) from None
    return artifacts


def prepare(text: str, base: Artifacts, quiet: bool = True) -> list[tuple[Toolchain, Artifacts]]:
    """--go's text → each toolchain resolved and its drivers built, in the order
    given; any failure is a UsageError before anything is measured."""
    spellings = parse(text)
    floor = module_floor()
    for s in spellings:
        check_floor(s, floor)
    toolchains = [resolve(s) for s in spellings]
    return [(t, build_for(base, t, quiet)) for t in toolchains]


def resumed_artifacts(folder: Path, artifacts: Artifacts) -> Artifacts:
    """For `run --resume` of one toolchain's folder (host.json's go_toolchain, written
    by `run --go`): that toolchain's programs, rebuilt if need be; else artifacts."""
    host = folder / HOST_JSON
    recorded = read_json(host, JSON_LIMIT).get("go_toolchain") if host.is_file() else None
    if not isinstance(recorded, dict) or not isinstance(recorded.get("requested"), str):
        return artifacts
    spelling = recorded["requested"]
    parse(spelling)
    toolchain = resolve(spelling)
    if toolchain.version != recorded.get("version"):
        raise UsageError(
            f"{folder} was measured with {recorded.get('version')}, but {spelling} is now "
            f"{toolchain.version}; start a new run instead of resuming this one"
        )
    return build_for(artifacts, toolchain)
