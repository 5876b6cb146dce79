"""A file of a result folder → its contents, checked.

Regular files only, each within its size limit, every value of its kind (TEXT, NUMBER,
NONNEG, POSITIVE, COUNT).
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import UsageError
from bench.results.write import MIB, read_csv, read_json

JSON_LIMIT = 4 * MIB


TABLE_LIMIT = 16 * MIB


def shown(value: object, width: int = 40) -> str:
    """A value for an error line: control and bidi characters escaped, long text cut."""
    text = str(value)
    text = "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in text
    )
    return text if len(text) <= width else text[: width - 1] + "…"


def columns_missing(path: Path, missing: list[str]) -> UsageError:
    named = ", ".join(missing[:3])
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    return UsageError(
        f"{path} lacks the column{'s' if len(missing) > 1 else ''} {named}{more}; "
        "it was not written by this switchbench, or it is damaged"
    )


TEXT, NUMBER, NONNEG, POSITIVE, COUNT = "text", "number", "nonneg", "positive", "count"


def typed(path: Path, frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """frame (all text) with its numeric columns converted and checked, empty cells
    NaN; a one-line error naming the first bad cell."""
    out = frame.copy()
    for column, kind in kinds.items():
        if column not in out.columns:
            continue
        text = out[column].astype(str)
        given = text.str.strip() != ""
        if kind == TEXT:
            out[column] = text.where(given, math.nan).astype(object)
            continue
        values = pd.to_numeric(text.where(given, ""), errors="coerce")
        bad = given & ~values.map(lambda v: math.isfinite(v) if v == v else False)
        if kind == NONNEG:
            bad |= given & (values < 0)
        elif kind in (POSITIVE,):
            bad |= given & (values <= 0)
        elif kind == COUNT:
            bad |= given & ((values < 0) | (values != values.round()))
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            need = {
                NUMBER: "a finite number",
                NONNEG: "a finite number, not negative",
                POSITIVE: "a positive finite number",
                COUNT: "a whole number, not negative",
            }[kind]
            raise UsageError(
                f"{path}: column {column} holds {shown(text.iloc[row])} in row {row + 1}, "
                f"where it needs {need}; the folder is damaged"
            )
        out[column] = values.where(given, math.nan).astype(float)
    return out


def checked_csv(
    path: Path,
    required: list[str],
    limit: int = TABLE_LIMIT,
    max_rows: int = 100_000,
    added: tuple[str, ...] = (),
) -> pd.DataFrame:
    """A result file's CSV as text, within its byte limit and row count, with every
    required column; `added` columns (of a newer format) are added empty where absent,
    so that an older folder reads them as not measured."""
    frame = read_csv(path, limit)
    for column in added:
        if column not in frame.columns:
            frame[column] = ""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise columns_missing(path, missing)
    if len(frame) > max_rows:
        raise UsageError(
            f"{path} has {len(frame):,} rows, more than the {max_rows:,} a result file may; "
            "the folder is damaged or not a result folder"
        )
    return frame


def _table(
    path: Path,
    kinds: dict[str, str],
    required: list[str],
    limit: int = TABLE_LIMIT,
    max_rows: int = 100_000,
) -> pd.DataFrame:
    frame = checked_csv(path, required, limit, max_rows)
    for column in kinds:
        if column not in frame.columns:
            frame[column] = ""
    return typed(path, frame, kinds)


def optional_table(
    folder: Path, name: str, kinds: dict[str, str], required: list[str]
) -> pd.DataFrame | None:
    path = folder / name
    if not path.exists() and not path.is_symlink():
        return None
    return _table(path, kinds, required)


def _type_name(spec: Any) -> str:
    if isinstance(spec, dict) or spec is dict:
        return "an object"
    if isinstance(spec, tuple) and spec and spec[0] == "map":
        return "an object"
    if isinstance(spec, tuple) and spec and spec[0] == "list":
        return "a list"
    if isinstance(spec, tuple):
        return " or ".join(_type_name(s) for s in spec)
    return {int: "a whole number", float: "a finite number", str: "text", bool: "true or false"}[
        spec
    ]


def _fits(value: Any, spec: Any) -> bool:
    """Whether value has the spec's shape at its top level (children checked apart)."""
    if value is None:
        return True
    if isinstance(spec, dict) or spec is dict:
        return isinstance(value, dict)
    if isinstance(spec, tuple) and spec and spec[0] == "map":
        return isinstance(value, dict)
    if isinstance(spec, tuple) and spec and spec[0] == "list":
        return isinstance(value, list)
    if isinstance(spec, tuple):
        return any(_fits(value, s) for s in spec)
    if spec is float:
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, spec)


def _check(path: Path, where: str, value: Any, spec: Any) -> None:
    if not _fits(value, spec):
        raise UsageError(
            f"{path}: {where} is {shown(repr(value)[:40])}, where it needs {_type_name(spec)}; "
            "the folder is damaged"
        )
    if value is None:
        return
    if isinstance(spec, tuple) and spec and spec[0] in ("map", "list"):
        items = value.items() if spec[0] == "map" else enumerate(value)
        for key, child in items:
            _check(path, f"{where}[{shown(key)}]", child, spec[1])
    elif isinstance(spec, tuple):
        chosen = next(s for s in spec if _fits(value, s))
        _check(path, where, value, chosen) if chosen is not spec else None
    elif isinstance(spec, dict):
        for key, child_spec in spec.items():
            _check(path, f"{where}.{key}", value.get(key), child_spec)


def checked_json(path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    data = read_json(path, JSON_LIMIT)
    for key, child in spec.items():
        _check(path, key, data.get(key), child)
    return data


def text_table(folder: Path, name: str, numeric: dict[str, str], required: list[str]) -> Any:
    """A table its section reads as text (NaN where empty), its numeric columns checked
    but kept as written, so the section shows them as the run wrote them."""
    path = folder / name
    if not path.exists() and not path.is_symlink():
        return None
    raw = read_csv(path, TABLE_LIMIT)
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise columns_missing(path, missing)
    if len(raw) > 100_000:
        raise UsageError(f"{path} has {len(raw):,} rows, more than a result file may")
    typed(path, raw, numeric)
    return raw.where(raw.apply(lambda c: c.astype(str).str.strip() != ""), math.nan)
