"""``--env`` of run, shell and devcontainer: one rule, one message (``env_assignments``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from poetry_docker_plugin.commands.options import env_assignments
from poetry_docker_plugin.errors import DockerPluginError
from tests.conftest import copy_fixture, poetry_in_process

if TYPE_CHECKING:
    from pathlib import Path


def test_key_value_and_a_bare_key_for_the_hosts_value() -> None:
    given = ["A=1", "_B", "C=", "D=x=y", "lower_9=ünïcode"]
    assert env_assignments(given) == (
        ("A", "1"),
        ("_B", None),
        ("C", ""),
        ("D", "x=y"),
        ("lower_9", "ünïcode"),
    )


@pytest.mark.parametrize("value", ["1A=x", "=x", "", "A-B=1", "A B", "A=line\nRUN x", "A=\x1b[2J"])
def test_a_bad_value_is_refused_naming_the_option_and_the_fix(value: str) -> None:
    with pytest.raises(DockerPluginError) as refused:
        env_assignments(["OK=1", value])
    message = str(refused.value)
    assert message.startswith(f"Invalid value for option --env: {value!r}.")
    assert "Give KEY=VALUE, or KEY alone for the value it has here" in message
    assert "e.g. --env DEBUG=1" in message


@pytest.mark.parametrize("command", ["run", "shell", "devcontainer"])
def test_each_command_refuses_a_bad_env_alike_before_any_work(command: str, tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)
    result = poetry_in_process(
        project, "docker", command, "--env", "1A=x", env={"POETRY_DOCKER_ENGINE": "/nonexistent"}
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Invalid value for option --env: '1A=x'. Give KEY=VALUE")
    assert "not found" not in result.stderr, "refused before the engine is looked for"
    assert not (project / ".devcontainer").exists()
