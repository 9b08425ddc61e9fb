"""The command line explains itself: ``poetry docker`` lists its sub-commands, and each option's
help says what it does here, with its default (through the real ``poetry``, no engine)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import copy_fixture, poetry_in_process

SUBCOMMANDS = ("build", "run", "shell", "lock", "devcontainer")


def option_help(project: Path, command: str) -> dict[str, str]:
    """``poetry docker COMMAND --help``'s options: each name with its one-line help."""
    result = poetry_in_process(project, "docker", command, "--help")
    assert result.returncode == 0, result.output
    options = result.stdout.split("Options:\n", 1)[1].split("\n\n", 1)[0]
    found = {}
    for line in options.splitlines():
        match = re.match(r"\s+(?:-\w, )?--([\w-]+)(?:=\S+)?\s+(.*)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


@pytest.mark.parametrize("arguments", [(), ("--help",)])
def test_poetry_docker_alone_lists_the_subcommands(tmp_path: Path, arguments: tuple[str]) -> None:
    project = copy_fixture("flat-script", tmp_path)
    result = poetry_in_process(project, "docker", *arguments)
    assert result.returncode == 0, result.output
    for name in SUBCOMMANDS:
        described = poetry_in_process(project, "docker", name, "--help").stdout
        description = described.split("Description:\n", 1)[1].splitlines()[0].strip()
        (line,) = [x for x in result.stdout.splitlines() if f"poetry docker {name} " in x]
        assert line.split(f"poetry docker {name}", 1)[1].strip() == description


def test_an_unknown_subcommand_is_named_with_the_list(tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)
    result = poetry_in_process(project, "docker", "biuld")
    assert result.returncode == 1
    assert "`poetry docker biuld` is not a command" in result.stderr
    assert "poetry docker build " in result.stderr


def test_lock_offers_no_option_that_only_a_build_uses(tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)
    offered = option_help(project, "lock")
    for name in ("build-arg", "cache-from", "reproducible", "tag", "print", "push"):
        assert name not in offered
    refused = poetry_in_process(project, "docker", "lock", "--reproducible")
    assert refused.returncode == 1
    assert 'The option "--reproducible" does not exist' in refused.output


def test_each_options_help_says_what_it_does_here(tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)
    build = option_help(project, "build")
    assert "main group alone" in build["with"]
    assert "every non-optional group" in option_help(project, "shell")["with"]
    assert "activate.sh" in build["print"]
    assert "comma-separated" in build["platform"]
    assert "comma-separated" in option_help(project, "lock")["platform"]
    assert "comma-separated" not in option_help(project, "run")["platform"]
    assert 'the word "base" keeps one stage' in build["runtime-base"]
    assert "default: the base-image setting, else condaforge/miniforge3:" in build["base-image"]
    assert "docker build --network" in build["network"]
    assert "container" not in build["network"]
    assert "the container" in option_help(project, "run")["network"]
    for name in ("build", "run", "shell", "devcontainer"):
        helped = poetry_in_process(project, "docker", name, "--help").stdout
        assert "it passes --no-cache to docker build" in " ".join(helped.split())
