"""The environment holds however a container is entered, on every manager that builds here.

``poetry docker run``, a plain ``docker run``, an interactive bash (whose .bashrc may hold
Miniforge's ``conda activate base``), ``docker exec``, ``--entrypoint``: each must find the
project's Python and scripts, and where a shell or the entrypoint starts, the environment's
activate.d scripts must have run (the stand-in's ``actdemo`` exports ACTDEMO=1).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from tests.conftest import Base, configure, copy_fixture, docker, run_poetry

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


# What a user would look at: which Python runs, whether the project imports and its script
# is on PATH, and whether activate.d ran.
PROBE = (
    "python -c \"import sys, hello_app; print('PREFIX=' + sys.prefix)\"; "
    'echo "SCRIPT=$(command -v hello)"; echo "ACTDEMO=${ACTDEMO:-unset}"'
)


@pytest.fixture(scope="module", params=["venv", "conda", "conda-single-stage"])
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, engine: str
) -> Iterator[tuple[Base, str, Path]]:
    """The flat-script project built once per manager (conda with and without its runtime
    stage); its image and project directory."""
    manager = request.param.split("-")[0]
    image = request.getfixturevalue("base_image" if manager == "venv" else "conda_base_image")
    base = Base(manager, image, slim=request.param == "conda")
    project = copy_fixture("flat-script", tmp_path_factory.mktemp(f"env-{request.param}"))
    name = f"pdp-test-{uuid.uuid4().hex[:10]}"
    configure(project, image=name, **base.settings)
    result = run_poetry(project, "docker", "build")
    assert result.returncode == 0, result.output
    yield base, f"{name}:0.3.1", project
    for tag in ("0.3.1", "latest"):
        docker("image", "rm", "--force", f"{name}:{tag}", check=False)


def expect(base: Base, output: str, *, activated: bool) -> None:
    """The project's environment is the one in use; activate.d ran when ``activated``."""
    prefix = base.prefix("hello-app")
    lines = output.splitlines()
    assert f"PREFIX={prefix}" in lines, output
    assert f"SCRIPT={prefix}/bin/hello" in lines, output
    if base.manager == "conda":
        assert ("ACTDEMO=1" if activated else "ACTDEMO=unset") in lines, output


def test_poetry_docker_run(built: tuple[Base, str, Path]) -> None:
    base, _, project = built
    result = run_poetry(project, "docker", "run", "--", "sh", "-c", PROBE)
    assert result.returncode == 0, result.output
    expect(base, result.stdout, activated=True)


@pytest.mark.parametrize("user", [None, "0"])
def test_plain_docker_run_and_interactive_bash(built: tuple[Base, str, Path], user: str) -> None:
    base, image, _ = built
    as_user = ["--user", user] if user else []
    expect(base, docker("run", "--rm", *as_user, image, "sh", "-c", PROBE).stdout, activated=True)
    # bash -i reads the bashrc files, as `docker run -it IMAGE bash` does
    interactive = docker("run", "--rm", "-i", *as_user, image, "bash", "-i", "-c", PROBE)
    expect(base, interactive.stdout, activated=True)


@pytest.mark.parametrize("user", [None, "0"])
def test_docker_exec(built: tuple[Base, str, Path], user: str) -> None:
    base, image, _ = built
    container = docker("run", "--detach", "--rm", image, "sleep", "300").stdout.strip()
    try:
        as_user = ["--user", user] if user else []
        python = docker(
            "exec",
            *as_user,
            container,
            "python",
            "-c",
            "import hello_app, sys; print('PREFIX=' + sys.prefix)",
        )
        assert f"PREFIX={base.prefix('hello-app')}" in python.stdout.splitlines()
        shell = docker("exec", "-i", *as_user, container, "bash", "-i", "-c", PROBE)
        expect(base, shell.stdout, activated=True)
    finally:
        docker("rm", "--force", container, check=False)


def test_other_entrypoints_find_the_environment(built: tuple[Base, str, Path]) -> None:
    base, image, _ = built
    script = docker("run", "--rm", "--entrypoint", "hello", image)
    assert "hello from hello-app" in script.stdout
    # no shell and no entrypoint: the variables are there, activate.d did not run
    bare = docker("run", "--rm", "--entrypoint", "sh", image, "-c", PROBE)
    expect(base, bare.stdout, activated=False)
