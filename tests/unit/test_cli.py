"""End-to-end: the CLI as a user runs it, at the smoke profile."""

from tests.conftest import ROOT


def test_leaks_command_names_its_default_folder_for_leaks():
    from bench.results.write import default_out

    default = default_out("leaks")
    assert default.parent == ROOT / "results" and default.name.startswith("leaks-")
    assert not default_out().name.startswith("leaks-")
