"""A standalone program's argv → its JSON lines, or one NotMeasured that says why.

The overhead step's minimal loops and the latency step's workers and drivers are run
as subprocesses that print one JSON object a line; each fails the same ways (it hangs,
cannot start, exits non-zero, prints something else), and each failure becomes the row's
status and reason rather than an exception that stops the run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


class NotMeasured(Exception):
    """A measurement that could not be made; its row says why (status, reason)."""

    def __init__(self, reason: str, status: str = "failed") -> None:
        super().__init__(reason)
        self.status = status


def json_lines(argv: list[str], timeout: float, skipped_exit: int | None = None) -> list[dict]:
    """The program's JSON lines; NotMeasured with its last word on stderr when it fails
    ("skipped" when it exits with skipped_exit: the program's own "the machine refuses
    this", as c/minimal.c's exit status 3 for pinning)."""
    name = Path(argv[0]).name
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise NotMeasured(f"{name} ran past {timeout:.0f} s and was killed") from None
    except OSError as e:
        raise NotMeasured(f"{name} could not be started: {e}") from None
    said = done.stderr.strip().splitlines()
    if done.returncode != 0:
        why = said[-1] if said else f"exit status {done.returncode}"
        raise NotMeasured(why, "skipped" if done.returncode == skipped_exit else "failed")
    try:
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    except ValueError:
        raise NotMeasured(f"{name} printed something that is not JSON") from None
    if not lines or not all(isinstance(x, dict) for x in lines):
        raise NotMeasured(f"{name} printed no result")
    return lines
