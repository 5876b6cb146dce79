"""Figures and untrusted strings → Markdown text (and so HTML).

How figures and untrusted strings are written into Markdown (and so HTML).

Every string read from a result folder may come from another machine, so it
goes through `md` before it reaches a report: Markdown's special characters
are backslash-escaped, which also keeps raw HTML out of report.html.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import unicodedata
from collections.abc import Callable


def missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def md(text: object) -> str:
    """A string from the folder, made safe for a Markdown table cell."""
    if missing(text):
        return "—"
    s = str(text)
    for ch in ("\\", "|", "*", "_", "`", "<", ">", "[", "]", "&", "!", "#", "$", "~"):
        s = s.replace(ch, "\\" + ch)
    return visible(" ".join(s.split()))


# Control characters (terminal escapes), bidi overrides and other invisible format
# characters: shown as \uXXXX text, so a string cannot hide or reorder what is around it.
_INVISIBLE = ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")


def visible(text: str, backslash: str = "\\\\") -> str:
    """text with every control, format (bidi) and private-use character written out as
    \\uXXXX; the backslash is Markdown-escaped unless told otherwise (a terminal line)."""
    return "".join(
        f"{backslash}u{ord(c):04x}" if unicodedata.category(c) in _INVISIBLE else c for c in text
    )


def ns(value: float | None) -> str:
    """A duration in ns, in ns or µs as suits its size."""
    if value is None or missing(value):
        return "—"
    if value >= 10_000:
        return f"{value / 1000:,.1f} µs"
    return f"{value:,.1f} ns" if value < 100 else f"{value:,.0f} ns"


def num(value: float | None, digits: int = 3) -> str:
    """A counter or ratio; *unavailable* when it could not be measured, never 0."""
    if value is None or missing(value):
        return "unavailable"
    return f"{value:.{digits}g}"


def kib(value: float) -> str:
    return "—" if missing(value) else f"{value / 1024:,.1f} KiB"


_PLAIN_ID = re.compile(r"[\w.\-*:/=+,]+")


def code(text: object) -> str:
    """An identifier (a case id, a profile) in a code span when it is plainly one;
    anything else is escaped text, since a code span shows backslashes literally."""
    s = "" if missing(text) else str(text)
    return f"`{s}`" if _PLAIN_ID.fullmatch(s) else md(s)


def number(value: object) -> float:
    """A number from a folder's file, or NaN where the cell holds anything else."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def plural(n: int, word: str, plural: str = "") -> str:
    """`1 case`, `2 cases`."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def as_typed(path: str | os.PathLike[str]) -> str:
    """path as one types it here: relative to the working folder where it lies inside
    it, else absolute."""
    full, cwd = os.path.abspath(path), os.getcwd()
    if full == cwd:
        return "."
    return os.path.relpath(full, cwd) if full.startswith(cwd.rstrip("/") + "/") else full


def program(path: str | os.PathLike[str]) -> str:
    """An executable's path as one types it here (never a bare name, which the shell
    would look up on PATH instead), shell-quoted."""
    typed = as_typed(path)
    return shlex.quote(typed if "/" in typed else f"./{typed}")


def ci_range(low: object, high: object, shown: Callable[[float], str] = ns) -> str:
    """A CI's bounds as the tables write them, joined by an en dash; a dash where there is none.
    The one CI text of the suite: cells.ci adds its scope, with_ci the figure."""
    if not isinstance(low, float) or math.isnan(low) or not isinstance(high, float):
        return "—"
    return f"{shown(low)} – {shown(high)}"


def with_ci(value: float, low: float, high: float) -> str:
    """A figure and its CI in brackets, `value [low, high]` (the overhead tables)."""
    if missing(value):
        return "—"
    if missing(low) or missing(high):
        return ns(value)
    return f"{ns(value)} [{ns(low)}, {ns(high)}]"
