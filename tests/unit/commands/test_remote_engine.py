"""``shell`` and the dev container's image refuse an engine on another machine alike (one
``refuse_remote_engine``): it cannot see the working tree they mount."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.conftest import copy_fixture, poetry_in_process

if TYPE_CHECKING:
    from pathlib import Path

REMOTE = {"DOCKER_HOST": "tcp://192.0.2.1:2375"}  # TEST-NET-1: nothing answers there


@pytest.mark.parametrize(
    ("arguments", "mounter", "alternative"),
    [
        (
            ("shell", "-c", "true"),
            "`poetry docker shell`",
            ", or use `poetry docker run`, which mounts nothing",
        ),
        (("devcontainer", "--prepare-image"), "The dev container", ""),
    ],
)
def test_a_remote_engine_is_refused_before_anything_is_built(
    arguments: tuple[str, ...], mounter: str, alternative: str, tmp_path: Path
) -> None:
    project = copy_fixture("flat-script", tmp_path)
    result = poetry_in_process(project, "docker", *arguments, env=REMOTE)
    assert result.returncode == 1
    said = " ".join(result.stderr.split())
    assert said.startswith(
        f"{mounter} mounts the working tree ({project.resolve()}) into its container, but the "
        "Docker engine is remote (tcp://192.0.2.1:2375, from DOCKER_HOST or the current docker "
        "context): it cannot see this machine's files"
    )
    assert "Use an engine of this machine (unset DOCKER_HOST" in said
    assert said.endswith(f"`docker context use default`){alternative}.")
