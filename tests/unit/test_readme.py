"""Every command in the README's shell blocks pastes and runs after `make`: its program
is a make target, a program in the repository's .venv, or a prerequisite the README
names (go, gcc, git), never a bare `switchbench` or `python` that only an activated
venv would find."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shlex
from pathlib import Path

import pytest

from bench.cli.main import build_parser
from tests.conftest import ROOT

SHELL_LANGUAGES = {"sh", "bash", "shell", "console", "zsh", "shell-session"}
OTHER_LANGUAGES = {"text", "json", "csv", "python", "go", "c", "markdown", "md"}
# What a newcomer has besides what `make` installs: the README's prerequisites, and
# the shell's own commands.
PREREQUISITES = {"cd", "go", "gcc", "git", "apt-get", "ls", "cat"}
SEPARATORS = {"&&", "||", ";", "|", "&", "(", ")"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
FENCE = re.compile(r"^\s*```(.*)$")
GO_INSTALL = re.compile(r"go install \S*/([\w.-]+)@\S+")
DOCS = ("README.md", "results/README.md")


def fenced_blocks(text: str) -> list[tuple[int, str, list[str]]]:
    """(line number of the opening fence, language, lines) of every fenced block."""
    blocks: list[tuple[int, str, list[str]]] = []
    current: tuple[int, str, list[str]] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if fence and current is None:
            current = (number, fence.group(1).strip().lower(), [])
        elif fence:
            blocks.append(current)
            current = None
        elif current is not None:
            current[2].append(line)
    assert current is None, f"the fence opened on line {current[0]} is never closed"
    return blocks


def logical_lines(lines: list[str]) -> list[str]:
    """The block's lines with backslash continuations joined."""
    joined: list[str] = []
    pending = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    if pending:
        joined.append(pending)
    return joined


def commands(line: str) -> list[list[str]]:
    """The simple commands of one shell line (comments dropped, redirections left out),
    each as its words."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    found: list[list[str]] = [[]]
    skip_next = False
    for token in lexer:
        if skip_next:
            skip_next = False
        elif token in SEPARATORS:
            found.append([])
        elif token and set(token) <= set("<>&"):
            skip_next = True  # a redirection and its target
            if found[-1] and found[-1][-1].isdigit():
                found[-1].pop()  # the 2 of 2>&1
        else:
            found[-1].append(token)
    return [words for words in found if words]


def make_targets(folder: Path) -> set[str]:
    makefile = (folder / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", makefile, flags=re.MULTILINE))


def subcommands() -> set[str]:
    return {
        name
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    }


def problems(text: str, root: Path = ROOT) -> list[str]:
    """What in text's shell blocks would not run as it stands after `make` in root."""
    found: list[str] = []
    installed = set(GO_INSTALL.findall(text))
    for start, language, lines in fenced_blocks(text):
        if language not in SHELL_LANGUAGES:
            if language not in OTHER_LANGUAGES:
                found.append(f"line {start}: a block labelled {language!r}; label it")
            continue
        cwd = root  # each block is pasted from the repository's root
        for line in logical_lines(lines):
            for words in commands(line):
                while words and ASSIGNMENT.match(words[0]):
                    words = words[1:]  # FOO=1 cmd: the environment of cmd
                if not words:
                    continue
                program, args = words[0], words[1:]
                where = f"line {start}+ `{line.strip()}`"
                if program == "cd":
                    cwd = (cwd / args[0]).resolve() if args else Path.home()
                    if not cwd.is_dir():
                        found.append(f"{where}: cd into {args[0]}, which is no folder")
                elif program == "make":
                    if not (cwd / "Makefile").is_file():
                        found.append(f"{where}: make where there is no Makefile")
                        continue
                    for target in args:
                        if not target.startswith("-") and "=" not in target:
                            if target not in make_targets(cwd):
                                found.append(f"{where}: the Makefile has no target {target}")
                elif program.startswith(".venv/bin/") or program.startswith("./.venv/bin/"):
                    path = cwd / program
                    if not (path.is_file() and os.access(path, os.X_OK)):
                        found.append(f"{where}: {program} does not exist after make here")
                    elif path.name == "switchbench" and (not args or args[0] not in subcommands()):
                        found.append(f"{where}: switchbench has no command {args[:1]}")
                    elif path.name.startswith("python") and args[:1] == ["-m"]:
                        module = args[1] if len(args) > 1 else ""
                        if not module or importlib.util.find_spec(module) is None:
                            found.append(f"{where}: no module {module!r} in the venv")
                elif program.startswith("~/go/bin/"):
                    if program.removeprefix("~/go/bin/") not in installed:
                        found.append(f"{where}: nothing `go install`s {program}")
                elif program not in PREREQUISITES:
                    found.append(
                        f"{where}: {program!r} is not a program that exists after make "
                        "(a make target, .venv/bin/…, or a prerequisite)"
                    )
    return found


@pytest.mark.parametrize("doc", DOCS)
def test_every_shell_command_runs_after_make(doc: str) -> None:
    assert problems((ROOT / doc).read_text()) == []


def test_the_readme_has_shell_commands_to_check() -> None:
    blocks = fenced_blocks((ROOT / "README.md").read_text())
    shell = [b for b in blocks if b[1] in SHELL_LANGUAGES]
    assert len(shell) >= 4
    assert sum(len(commands(line)) for b in shell for line in logical_lines(b[2])) >= 15


def test_the_check_catches_what_would_not_run() -> None:
    text = "\n".join(
        [
            "```sh",
            "switchbench list                      # bare: only an activated venv has it",
            "python -m pyperf stats x/suite.json",
            ".venv/bin/python -m pyperf stats x/suite.json   # fine",
            "make bench PROFILE=quick && make nosuchtarget",
            ".venv/bin/switchbench nosuchcommand",
            ".venv/bin/python -m nosuchmodule",
            ".venv/bin/switchbench run \\",
            "    --profile quick                   # a continued line, fine",
            "SWITCHBENCH_NO_PERF=1 python3 -V 2>&1 | ~/go/bin/benchstat",
            "cd go",
            ".venv/bin/switchbench list            # no .venv inside go/",
            "```",
            "```bash",
            ".venv/bin/switchbench list            # each block starts at the root: fine",
            "```",
            "```",
            "unlabelled",
            "```",
        ]
    )
    found = "\n".join(problems(text))
    for culprit in (
        "'switchbench'",
        "'python'",
        "no target nosuchtarget",
        ".venv/bin/switchbench does not exist",
        "no command ['nosuchcommand']",
        "no module 'nosuchmodule'",
        "'python3'",
        "nothing `go install`s ~/go/bin/benchstat",
        "label it",
    ):
        assert culprit in found, culprit
    assert len(problems(text)) == 9, found
    assert commands("cd go && go test -bench . ./x | ~/go/bin/benchstat /dev/stdin > a.txt") == [
        ["cd", "go"],
        ["go", "test", "-bench", ".", "./x"],
        ["~/go/bin/benchstat", "/dev/stdin"],
    ]
