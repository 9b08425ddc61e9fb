"""The runtime stage of conda images: the environment without the conda that made it.

Built on the offline conda stand-in, with the offline test base as the runtime base (what
``debian:bookworm-slim`` is where a registry can be reached).
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import uuid
from typing import TYPE_CHECKING

import pytest

from tests.conftest import DOCKER, Base, configure, copy_fixture, docker, run_poetry

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PREFIX = "/opt/conda/envs/hello-app"


@pytest.fixture(scope="module")
def slim(
    conda_base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    project = copy_fixture("flat-script", tmp_path_factory.mktemp("slim"))
    name = f"pdp-test-{uuid.uuid4().hex[:10]}"
    configure(project, image=name, **Base("conda", conda_base_image).settings)
    result = run_poetry(project, "docker", "build")
    assert result.returncode == 0, result.output
    yield f"{name}:0.3.1", project
    for tag in ("0.3.1", "latest", "dev"):
        docker("image", "rm", "--force", f"{name}:{tag}", check=False)


def test_no_conda_in_the_runtime_image(slim: tuple[str, Path], tmp_path: Path) -> None:
    image, _ = slim
    check = (
        "command -v conda || echo no-conda; ls /opt/conda; test -e /opt/conda/pkgs || echo no-pkgs"
    )
    assert docker("run", "--rm", image, "sh", "-c", check).stdout.split() == [
        "no-conda",
        "envs",
        "no-pkgs",
    ]
    container = docker("create", image).stdout.strip()
    try:
        exported = tmp_path / "image.tar"
        with exported.open("wb") as handle:
            subprocess.run([DOCKER, "export", container], stdout=handle, check=True)
        with tarfile.open(exported) as archive:
            names = archive.getnames()
    finally:
        docker("rm", container, check=False)
    assert any(name.startswith(PREFIX.lstrip("/") + "/bin/python") for name in names)
    outside = [
        name
        for name in names
        if name.startswith("opt/conda")
        and not (PREFIX.lstrip("/") + "/").startswith(name.rstrip("/") + "/")
        and not name.startswith(PREFIX.lstrip("/") + "/")
    ]
    assert outside == [], "nothing of conda outside the environment prefix"


def test_the_project_runs_locked_down(slim: tuple[str, Path]) -> None:
    image, _ = slim
    locked_down = docker(
        "run", "--rm", "--read-only", "--tmpfs", "/tmp", "--user", "65532:65532", image
    )
    assert locked_down.stdout.startswith("hello from hello-app"), locked_down.output
    activated = docker("run", "--rm", image, "sh", "-c", 'echo "ACTDEMO=$ACTDEMO"')
    assert activated.stdout.strip() == "ACTDEMO=1"


def test_the_development_image_keeps_conda(slim: tuple[str, Path]) -> None:
    _, project = slim
    shell = run_poetry(
        project, "docker", "shell", "-c", "conda --version && python -c 'import hello_app'"
    )
    assert shell.returncode == 0, shell.output
    assert "conda 25.3.1" in shell.stdout


def test_a_source_edit_rebuilds_the_project_layer_alone(slim: tuple[str, Path]) -> None:
    image, project = slim
    layers = ["image", "inspect", "--format", "{{json .RootFS.Layers}}", image]
    before = docker(*layers).stdout
    cli = project / "hello_app" / "cli.py"
    cli.write_text(cli.read_text().replace("hello from", "hello again from"))
    assert run_poetry(project, "docker", "build").returncode == 0

    old, new = json.loads(before), json.loads(docker(*layers).stdout)
    assert [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b] == [len(new) - 1]
    assert docker("run", "--rm", image).stdout.startswith("hello again from hello-app")


def test_a_runtime_base_rebuilt_under_the_same_tag_is_noticed(
    conda_base_image: str, base_image: str, tmp_path: Path, image_tag: str
) -> None:
    moving = f"{image_tag.split(':')[0]}-runtime:moving"
    docker("tag", base_image, moving)
    project = copy_fixture("flat-script", tmp_path)
    try:
        configure(project, **{**Base("conda", conda_base_image).settings, "runtime_base": moving})
        assert run_poetry(project, "docker", "build", "--tag", image_tag).returncode == 0
        docker("build", "--tag", moving, "-", input=f"FROM {base_image}\nRUN touch /marker\n")
        rebuilt = run_poetry(project, "docker", "build", "--tag", image_tag)
        assert rebuilt.returncode == 0, rebuilt.output
        assert "is up to date" not in rebuilt.stderr
        docker("run", "--rm", image_tag, "test", "-e", "/marker")
    finally:
        docker("image", "rm", "--force", moving, check=False)
