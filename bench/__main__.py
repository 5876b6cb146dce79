"""`python -m bench` → the switchbench command line (bench.cli)."""

from bench.cli import main

raise SystemExit(main())
