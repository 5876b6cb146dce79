"""go/ and c/ → the C library (for cffi), the C checks and the Go driver, cached by content.

Compile the native code: the C library (for cffi) and the Go driver.

Builds are cached: a stamp beside each artefact holds a hash of its
sources and compiler, and nothing is rebuilt (nor is the compiler even
needed) while that hash still matches.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.errors import UsageError

# C11 with every warning an error, as the project's standard asks.
C_FLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread"]
C_LIBRARY_SOURCES = [
    "common.c",
    "ring.c",
    "primitives.c",
    "single.c",
    "fcontext.c",
    "counters.c",
    "memory.c",
    "latency.c",
    "account.c",
    "canary.c",
]
C_HEADERS = ["switchbench.h", "common.h", "ring.h", "counters.h", "account.h"]
C_CHECK_SOURCE = "check_handoffs.c"
# The harness-free loops of bench/measure/overhead.py: standalone programs, no library.
C_MINIMAL_SOURCE = "minimal.c"
C_MINIMAL = "minimal-c"
GO_MINIMAL_PACKAGE = "cmd/minimal"
GO_MINIMAL = "minimal-go"
# The runtime's goroutineleak profile exists only in a binary built with this
# experiment (Go 1.26 and newer); a second driver is built with it.
GO_LEAK_EXPERIMENT = "goroutineleakprofile"
GO_LEAK_DRIVER = "switchdriver-leakprofile"


def source_root() -> Path:
    """The checkout holding go/ and c/ (the package is installed editable from it)."""
    root = Path(__file__).resolve().parents[2]  # bench/native/build.py
    if not (root / "c" / "switchbench.h").is_file() or not (root / "go" / "go.mod").is_file():
        raise UsageError(
            f"no switchbench checkout around {root} (c/ and go/ are missing); "
            "install with `make test` or `pip install -e .` from a clone"
        )
    return root


@dataclass(frozen=True)
class Artifacts:
    """Where the built native code lives."""

    c_library: Path
    c_check: Path
    go_driver: Path
    # The driver built with GOEXPERIMENT=goroutineleakprofile; where that
    # build failed, NAME.unavailable beside it says why.
    go_leak_driver: Path | None = None
    # The minimal loops (go/cmd/minimal, c/minimal.c) that bench/measure/overhead.py
    # sets beside the suite's figures; None where not configured.
    go_minimal: Path | None = None
    c_minimal: Path | None = None

    @classmethod
    def locate(cls) -> Artifacts:
        """c/build/ and go/bin/ in the checkout, or one folder named by SWITCHBENCH_BUILD_DIR."""
        override = os.environ.get("SWITCHBENCH_BUILD_DIR")
        if override:
            out = Path(override)
            return cls(
                out / "libswitchbench.so",
                out / "check_handoffs",
                out / "switchdriver",
                out / GO_LEAK_DRIVER,
                out / GO_MINIMAL,
                out / C_MINIMAL,
            )
        root = source_root()
        return cls(
            root / "c" / "build" / "libswitchbench.so",
            root / "c" / "build" / "check_handoffs",
            root / "go" / "bin" / "switchdriver",
            root / "go" / "bin" / GO_LEAK_DRIVER,
            root / "go" / "bin" / GO_MINIMAL,
            root / "c" / "build" / C_MINIMAL,
        )

    def leak_driver_unavailable(self) -> str | None:
        """Why the goroutineleak-profile driver cannot be used; None when it can."""
        target = self.go_leak_driver
        if target is None:
            return "no goroutineleak-profile driver is configured"
        if target.is_file():
            return None
        note = target.with_name(target.name + ".unavailable")
        if note.is_file():
            return note.read_text().strip()
        return f"{target.name} has not been built"


def _digest(files: list[Path], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for f in sorted(files):
        h.update(str(f.name).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _tool(name: str, env_var: str, install_hint: str) -> str:
    wanted = os.environ.get(env_var, name)
    found = shutil.which(wanted)
    if found is None:
        raise UsageError(f"{wanted!r} is not on PATH; {install_hint}")
    return found


def _go() -> str:
    """The go command (GO overrides it), or a UsageError saying how to install it."""
    return _tool(
        "go", "GO", "install Go 1.22 or newer (https://go.dev/doc/install) and put it on PATH"
    )


def _cc() -> str:
    """The C compiler (CC overrides it), or a UsageError saying how to install one."""
    return _tool("gcc", "CC", "install gcc (apt-get install gcc) or set CC to a C compiler")


def _tool_version(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else ""


def _up_to_date(target: Path, digest: str) -> bool:
    stamp = target.with_name(target.name + ".stamp")
    return target.is_file() and stamp.is_file() and stamp.read_text() == digest


def _compile(argv: list[str], cwd: Path, target: Path, what: str, env: dict | None = None) -> None:
    """Run one compile into a temporary name, then rename: no half-built artefact."""
    target.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise UsageError(f"building {what} failed (compiler output above); fix the sources")


def build_c(artifacts: Artifacts, quiet: bool = True) -> None:
    c_dir = source_root() / "c"
    cc = _cc()
    sources = [c_dir / s for s in (*C_LIBRARY_SOURCES, *C_HEADERS, C_CHECK_SOURCE)]
    digest = _digest(sources, " ".join([_tool_version([cc, "--version"]), *C_FLAGS]))
    targets = {
        artifacts.c_library: ["-fPIC", "-shared", *C_LIBRARY_SOURCES],
        artifacts.c_check: [C_CHECK_SOURCE, *C_LIBRARY_SOURCES],
    }
    for target, args in targets.items():
        if _up_to_date(target, digest):
            continue
        tmp = target.with_name(target.name + ".tmp")
        _compile([cc, *C_FLAGS, "-o", str(tmp), *args], c_dir, target, "c/")
        tmp.replace(target)
        target.with_name(target.name + ".stamp").write_text(digest)
        if not quiet:
            print(f"built {target}", file=sys.stderr)


def build_go(artifacts: Artifacts, quiet: bool = True) -> None:
    go_dir = source_root() / "go"
    go = _go()
    sources = [p for p in go_dir.rglob("*") if p.suffix in {".go", ".mod", ".sum"}]
    target = artifacts.go_driver
    digest = _digest(sources, _tool_version([go, "version"]))
    if _up_to_date(target, digest):
        return
    tmp = target.with_name(target.name + ".tmp")
    _compile([go, "build", "-o", str(tmp), "./cmd/switchdriver"], go_dir, target, "go/")
    tmp.replace(target)
    target.with_name(target.name + ".stamp").write_text(digest)
    if not quiet:
        print(f"built {target}", file=sys.stderr)


def build_go_leak_profile(artifacts: Artifacts, quiet: bool = True) -> None:
    """The driver again, with GOEXPERIMENT=goroutineleakprofile. A Go release
    that does not know the experiment is no error: the reason is kept beside
    the target (NAME.unavailable) and the goroutineleak profile is reported as
    unavailable."""
    target = artifacts.go_leak_driver
    if target is None:
        return
    go_dir = source_root() / "go"
    go = _go()
    sources = [p for p in go_dir.rglob("*") if p.suffix in {".go", ".mod", ".sum"}]
    digest = _digest(sources, f"{_tool_version([go, 'version'])} GOEXPERIMENT={GO_LEAK_EXPERIMENT}")
    stamp = target.with_name(target.name + ".stamp")
    note = target.with_name(target.name + ".unavailable")
    if stamp.is_file() and stamp.read_text() == digest and (target.is_file() or note.is_file()):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    done = subprocess.run(
        [go, "build", "-o", str(tmp), "./cmd/switchdriver"],
        cwd=go_dir,
        capture_output=True,
        text=True,
        env={**os.environ, "GOEXPERIMENT": GO_LEAK_EXPERIMENT},
        check=False,
    )
    if done.returncode == 0:
        tmp.replace(target)
        note.unlink(missing_ok=True)
    else:
        tmp.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        said = (done.stderr or done.stdout).strip().splitlines()
        note.write_text(
            f"building with GOEXPERIMENT={GO_LEAK_EXPERIMENT} failed: "
            f"{said[-1] if said else f'exit status {done.returncode}'}\n"
        )
    stamp.write_text(digest)
    if not quiet:
        print(f"built {target}" if done.returncode == 0 else note.read_text(), file=sys.stderr)


def _build_program(
    target: Path, digest: str, before: list[str], after: list[str], cwd: Path, what: str
) -> bool:
    """Compile one program (`BEFORE -o TMP AFTER`, then renamed) unless its stamp
    matches. True if it was built."""
    if _up_to_date(target, digest):
        return False
    tmp = target.with_name(target.name + ".tmp")
    _compile([*before, "-o", str(tmp), *after], cwd, target, what)
    tmp.replace(target)
    target.with_name(target.name + ".stamp").write_text(digest)
    return True


def build_c_minimal(artifacts: Artifacts, quiet: bool = True) -> None:
    """c/minimal.c, the condvar ping-pong with no harness (bench/measure/overhead.py)."""
    target = artifacts.c_minimal
    if target is None:
        return
    c_dir = source_root() / "c"
    cc = _cc()
    digest = _digest(
        [c_dir / C_MINIMAL_SOURCE], " ".join([_tool_version([cc, "--version"]), *C_FLAGS])
    )
    if _build_program(target, digest, [cc, *C_FLAGS], [C_MINIMAL_SOURCE], c_dir, "c/minimal.c"):
        if not quiet:
            print(f"built {target}", file=sys.stderr)


def build_go_minimal(artifacts: Artifacts, quiet: bool = True) -> None:
    """go/cmd/minimal, the channel ping-pong with no harness (bench/measure/overhead.py)."""
    target = artifacts.go_minimal
    if target is None:
        return
    go_dir = source_root() / "go"
    go = _go()
    sources = [
        *(go_dir / GO_MINIMAL_PACKAGE).glob("*.go"),
        *(p for p in (go_dir / "go.mod", go_dir / "go.sum") if p.is_file()),
    ]
    digest = _digest(sources, _tool_version([go, "version"]))
    if _build_program(
        target, digest, [go, "build"], [f"./{GO_MINIMAL_PACKAGE}"], go_dir, "go/cmd/minimal"
    ):
        if not quiet:
            print(f"built {target}", file=sys.stderr)


def build(langs: set[str], quiet: bool = True) -> Artifacts:
    """Build what the given languages ("c", "go") need; return where it is."""
    artifacts = Artifacts.locate()
    if "c" in langs:
        build_c(artifacts, quiet)
        build_c_minimal(artifacts, quiet)
    if "go" in langs:
        build_go(artifacts, quiet)
        build_go_leak_profile(artifacts, quiet)
        build_go_minimal(artifacts, quiet)
    return artifacts
