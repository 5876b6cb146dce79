"""`--help` of every command, in a fresh process, and the command prefix hints name."""

from __future__ import annotations

import pytest

from tests.conftest import switchbench, typed_command
from tests.unit.test_readme import subcommands

COMMANDS = sorted(subcommands())


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_of_every_command(command: str | None) -> None:
    done = switchbench(*([command] if command else []), "--help")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    # Run as `python -m bench` from the root, usage names it as typed there.
    usage = f"usage: {typed_command()}" + (f" {command}" if command else "")
    assert done.stdout.startswith(usage), done.stdout[:200]
    assert "options:" in done.stdout and len(done.stdout.splitlines()) > 3
