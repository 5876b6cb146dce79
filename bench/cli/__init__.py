"""argv → the `switchbench` command it names (bench.cli.main), one module per command.

The `switchbench` command line (bench.cli.main), one module per command."""

from bench.cli.main import main

__all__ = ["main"]
