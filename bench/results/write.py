"""Bytes, JSON and frames → files written whole or not at all; files read within limits.

Files in and out, safely: a result folder may come from a stranger.

Reading: only regular files (never through a symlink, never a FIFO or a device),
each under a size limit, decoded strictly; any problem is one UsageError naming
the file. Writing: a temporary file from mkstemp in the target folder, then
os.replace, and never onto a name that is a symlink or not a regular file, so a
planted link cannot make the suite overwrite a file elsewhere. CSV cells that a
spreadsheet would run as a formula are neutralised on the way out.
"""

from __future__ import annotations

import io
import json
import math
import os
import socket
import stat
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import UsageError
from bench.native.build import source_root

KIB = 1 << 10
MIB = 1 << 20


def refuse_symlink(path: Path, what: str = "") -> None:
    """A one-line error when path is a symlink (or, if it exists, not a plain file)."""
    if path.is_symlink():
        raise UsageError(
            f"{path} is a symbolic link; switchbench never writes through one: "
            f"remove it{what} and run again"
        )
    if path.exists() and not path.is_file():
        raise UsageError(f"{path} exists and is not a regular file; move it away and run again")


def refuse_symlinked_folder(folder: Path) -> None:
    """A one-line error when the folder written into is itself a symlink."""
    if folder.is_symlink():
        raise UsageError(
            f"{folder} is a symbolic link; switchbench writes only into a real folder: "
            "give the folder it points to, or another one"
        )


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; a UsageError otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise UsageError(
            f"{path} is missing; give a result folder made by `switchbench run`"
        ) from None
    except OSError as e:
        if path.is_symlink():
            raise UsageError(
                f"{path} is a symbolic link; switchbench reads only regular files in a "
                "result folder: replace it with the file itself"
            ) from None
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(
                f"{path} is not a regular file; switchbench reads only regular files in a "
                "result folder: replace it with the file itself"
            )
        if info.st_size > limit:
            raise UsageError(
                f"{path} holds {info.st_size:,} bytes, more than the {limit:,} a "
                "switchbench result file may; the folder is damaged or not a result folder"
            )
        data = f.read(limit + 1)
    if len(data) > limit:
        raise UsageError(f"{path} grew past {limit:,} bytes while being read")
    return data


def read_text(path: Path, limit: int) -> str:
    try:
        return read_bytes(path, limit).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; the folder is damaged") from None


def read_json(path: Path, limit: int) -> dict[str, Any]:
    """A JSON object (a JSON file cut off anywhere but in its trailing whitespace does
    not parse, so no further check is needed)."""
    text = read_text(path, limit)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:
        kind = "nested too deeply" if isinstance(e, RecursionError) else "not readable JSON"
        raise UsageError(
            f"{path} is {kind}; the folder is damaged: rerun, or restore it from where it came"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} holds no JSON object; the folder is damaged")
    return data


def read_csv(path: Path, limit: int, columns: list[str] | None = None) -> pd.DataFrame:
    """A CSV the suite wrote, every cell as text ("" where empty): the caller checks
    types. A file that does not end with a newline was cut off mid-row."""
    text = read_text(path, limit)
    if text and not text.endswith("\n"):
        raise UsageError(f"{path} is cut off mid-row (no final newline); the folder is damaged")
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False, usecols=columns
        )
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        reason = str(e).splitlines()[0][:80] if str(e) else type(e).__name__
        raise UsageError(
            f"{path} is not a readable CSV ({reason}); the folder is damaged"
        ) from None
    return frame


def atomic_write_via(path: Path, fill: Callable[[int, str], None]) -> Path:
    """The suite's one atomic write: a fresh mkstemp file beside path, filled by
    fill(fd, name) (which owns fd: it writes through it, or closes it and writes by
    name, as pyperf's dump does), then renamed onto path. Never through a symlink;
    nothing is left behind when fill fails."""
    refuse_symlink(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        fill(fd, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write(path: Path, data: bytes | str) -> Path:
    """Write path whole or not at all, never through a symlink."""
    payload = data.encode("utf-8") if isinstance(data, str) else data

    def fill(fd: int, tmp: str) -> None:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.chmod(tmp, 0o644)

    return atomic_write_via(path, fill)


def write_json(path: Path, data: object) -> Path:
    return atomic_write(path, json.dumps(data, indent=2, default=str) + "\n")


# A cell that begins with one of these is run as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        return not math.isnan(float(text)) or text.strip().lower() == "nan"
    except ValueError:
        return False


def neutralise(value: object) -> object:
    """A text cell a spreadsheet would evaluate, prefixed with ' (numbers pass as they are)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame) -> str:
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [str(neutralise(str(c))) for c in safe.columns]
    return safe.to_csv(index=False)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    return atomic_write(path, csv_text(frame))


def default_out(kind: str = "") -> Path:
    """results/[<kind>-]<host>-<UTC time>"""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    prefix = f"{kind}-" if kind else ""
    return source_root() / "results" / f"{prefix}{name or 'host'}-{stamp}"


def create_out(out: Path) -> None:
    if out.is_symlink():
        raise UsageError(f"--out {out} is a symbolic link; name a new folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out} already exists and is not an empty folder; name a new one")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UsageError(
            f"cannot write the result folder {out}: {e.strerror or e}; "
            "choose a writable folder with --out"
        ) from None
