"""Target platforms against the real engine: the engine's own by default, never this
machine's; a base image of another platform refused before anything is built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from conftest import configure, copy_fixture, docker, locked_versions, run_poetry

if TYPE_CHECKING:
    from pathlib import Path


def test_the_target_is_the_engines_platform_not_this_machines(
    base_image: str, tmp_path: Path, project_image: str
) -> None:
    """``setarch i686`` makes this machine say i686 to Poetry (a kernel personality, not a
    stub); the engine still runs amd64. numpy and pandas have no i686 wheels: wheels picked
    for the host would fail the plan, or the image at import time."""
    project = copy_fixture("examples/sample-app", tmp_path)
    configure(project, base_image=base_image, image=project_image)
    built = run_poetry(project, "docker", "build", prefix=("setarch", "i686"))
    assert built.returncode == 0, built.output
    code = "import numpy, pandas, platform; print(platform.machine(), numpy.__version__)"
    python = "/opt/venv/bin/python"
    ran = docker("run", "--rm", "--entrypoint", python, f"{project_image}:1.2.0", "-c", code)
    machine, numpy = ran.stdout.split()
    assert machine == "x86_64" and numpy in locked_versions(project)["numpy"]


def test_a_base_image_of_another_platform_is_refused_before_building(
    base_image: str, tmp_path: Path, project_image: str
) -> None:
    """The local test base is amd64 and no registry has an arm64 one: one clear paragraph."""
    project = copy_fixture("flat-script", tmp_path)
    configure(project, base_image=base_image, image=project_image)
    for verbosity in ("-q", "-v"):
        result = run_poetry(project, "docker", "build", "--platform", "linux/arm64", verbosity)
        assert result.returncode == 1
        assert f"The base image {base_image} is a linux/amd64 image here" in result.stderr
        assert "linux/arm64" in result.stderr and "Traceback" not in result.output
    assert docker("image", "inspect", f"{project_image}:0.3.1", check=False).returncode != 0
