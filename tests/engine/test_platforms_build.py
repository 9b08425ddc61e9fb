"""Target platforms against the real engine: the engine's own by default, never this
machine's; a base image of another platform refused before anything is built."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

import pytest
from conftest import DOCKER, configure, copy_fixture, docker, locked_versions, run_poetry

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import Registry, SecondEngine


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


@pytest.fixture(scope="session")
def two_platform_base(registry: Registry, base_image: str, arm64_base_image: str) -> str:
    """The test bases for amd64 and arm64 as one reference in the registry, as a registry's
    ``python`` or ``debian`` image is; this engine has no local image of that name."""
    reference = registry.reference("pdp-base:bookworm")
    images = []
    for image, architecture in ((base_image, "amd64"), (arm64_base_image, "arm64")):
        tagged = f"{reference}-{architecture}"
        docker("tag", image, tagged)
        docker("push", tagged)
        docker("image", "rm", tagged)
        images.append(tagged)
    experimental = {**os.environ, "DOCKER_CLI_EXPERIMENTAL": "enabled"}
    for command in (
        ["create", "--amend", "--insecure", reference, *images],
        ["push", "--purge", "--insecure", reference],
    ):
        subprocess.run(
            [DOCKER, "manifest", *command], check=True, env=experimental, capture_output=True
        )
    return reference


def test_two_platforms_are_pushed_as_one_reference(
    registry: Registry,
    second_engine: SecondEngine,
    two_platform_base: str,
    tmp_path: Path,
    image_tag: str,
) -> None:
    """One image per platform from the same lock (markupsafe's compiled wheel of each), one
    list pushed; each platform pulled by the printed digest on another engine and run (arm64
    under emulation)."""
    project = copy_fixture("flat-script", tmp_path)
    repository = registry.reference(image_tag.split(":")[0])
    configure(project, base_image=two_platform_base, image=repository)
    platforms = ("--platform", "linux/amd64,linux/arm64")
    refused = run_poetry(project, "docker", "build", *platforms)
    assert refused.returncode == 1 and "Add --push" in refused.stderr, refused.output
    built = run_poetry(project, "docker", "build", *platforms, "--push")
    assert built.returncode == 0, built.output
    reference = built.stdout.strip()
    assert reference.startswith(f"{repository}@sha256:"), built.output
    code = "import platform, markupsafe._speedups as s; print(platform.machine(), s.__file__)"
    for architecture, machine in (("amd64", "x86_64"), ("arm64", "aarch64")):
        second_engine.docker("pull", "--platform", f"linux/{architecture}", reference)
        ran = second_engine.docker(
            "run", "--rm", "--platform", f"linux/{architecture}", reference, "python", "-c", code
        )
        found_machine, speedups = ran.stdout.split()
        assert found_machine == machine and speedups.endswith(f"{machine}-linux-gnu.so"), ran
        second_engine.docker("image", "rm", reference)
    # Run here: the arm64 image (its layers cached) runs emulated, and says so once.
    ran = run_poetry(project, "docker", "run", "--platform", "linux/arm64", "--", "true")
    assert ran.returncode == 0, ran.output
    assert ran.stderr.count("under emulation (QEMU)") == 1, ran.stderr
    again = run_poetry(project, "docker", "run", "--platform", "linux/arm64", "--", "true")
    assert again.stderr.count("under emulation (QEMU)") == 1, "also when nothing is rebuilt"
    native = run_poetry(project, "docker", "run", "--", "true")
    assert "emulation" not in native.stderr
