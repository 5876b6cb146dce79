"""Compile the native code: the C library (for cffi) and the Go driver.

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
C_LIBRARY_SOURCES = ["common.c", "ring.c", "primitives.c", "single.c", "counters.c", "memory.c"]
C_HEADERS = ["switchbench.h", "common.h", "ring.h", "counters.h"]
C_CHECK_SOURCE = "check_handoffs.c"


def source_root() -> Path:
    """The checkout holding go/ and c/ (the package is installed editable from it)."""
    root = Path(__file__).resolve().parent.parent
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

    @classmethod
    def locate(cls) -> Artifacts:
        """c/build/ and go/bin/ in the checkout, or one folder named by SWITCHBENCH_BUILD_DIR."""
        override = os.environ.get("SWITCHBENCH_BUILD_DIR")
        if override:
            out = Path(override)
            return cls(out / "libswitchbench.so", out / "check_handoffs", out / "switchdriver")
        root = source_root()
        return cls(
            root / "c" / "build" / "libswitchbench.so",
            root / "c" / "build" / "check_handoffs",
            root / "go" / "bin" / "switchdriver",
        )


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
    cc = _tool("gcc", "CC", "install gcc (apt-get install gcc) or set CC to a C compiler")
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
    go = _tool(
        "go", "GO", "install Go 1.22 or newer (https://go.dev/doc/install) and put it on PATH"
    )
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


def build(langs: set[str], quiet: bool = True) -> Artifacts:
    """Build what the given languages ("c", "go") need; return where it is."""
    artifacts = Artifacts.locate()
    if "c" in langs:
        build_c(artifacts, quiet)
    if "go" in langs:
        build_go(artifacts, quiet)
    return artifacts
