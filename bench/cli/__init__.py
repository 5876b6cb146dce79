"""The `switchbench` command line (bench.cli.main), one module per command."""

from bench.cli.main import main

__all__ = ["main"]
