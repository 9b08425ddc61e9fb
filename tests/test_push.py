"""``build --push`` and ``--cache-from`` against a real registry, and a second engine that
plays another machine (a CI runner) with none of the first one's images or layers."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

import pytest
from conftest import (
    TEST_BASE_IMAGE,
    Registry,
    SecondEngine,
    configure,
    copy_fixture,
    docker,
    run_poetry,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.docker

DIGEST_REFERENCE = re.compile(r"(?P<repository>\S+)@sha256:[0-9a-f]{64}")


@pytest.fixture(scope="session")
def registry_bases(
    registry: Registry, base_image: str, conda_base_image: str
) -> Iterator[dict[str, str]]:
    """The test bases, pushed to the registry: another machine pulls them from there, as a
    CI runner pulls its bases. Their tags on the first engine are removed at the end."""
    pushed = {}
    for manager, image in (("venv", base_image), ("conda", conda_base_image)):
        reference = registry.reference(image)
        docker("tag", image, reference)
        docker("push", reference)
        pushed[manager] = reference
    yield pushed
    for reference in pushed.values():
        docker("image", "rm", reference, check=False)


def registry_settings(manager: str, bases: dict[str, str]) -> dict[str, object]:
    """Settings that build on the registry's bases (the conda runtime stage's too)."""
    if manager == "venv":
        return {"base_image": bases["venv"]}
    return {
        "base_image": bases["conda"],
        "env_manager": "conda",
        "python": "3.11",
        "conda_packages": ["actdemo"],
        "runtime_base": bases["venv"],
    }


@pytest.fixture
def repository(registry: Registry) -> Iterator[str]:
    """A unique repository in the registry; its images on the first engine are removed."""
    name = registry.reference(f"pdp-test-{uuid.uuid4().hex[:10]}")
    yield name
    images = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", name, check=False)
    for reference in images.stdout.split():
        docker("image", "rm", "--force", reference, check=False)


def steps(output: str) -> dict[str, str]:
    """BuildKit's plain progress: each step's instruction, and how it ended (CACHED/DONE)."""
    names: dict[str, str] = {}
    ends: dict[str, str] = {}
    for line in output.splitlines():
        match = re.match(r"#(\d+) (\[.*)", line)
        if match and match.group(1) not in names:
            names[match.group(1)] = match.group(2)
        end = re.match(r"#(\d+) (CACHED|DONE|ERROR)", line)
        if end:
            ends[end.group(1)] = end.group(2)
    return {names[number]: ends.get(number, "") for number in names}


@pytest.mark.parametrize("manager", ["venv", "conda"])
def test_push_then_another_machine_reuses_every_dependency_layer(
    tmp_path: Path,
    manager: str,
    registry_bases: dict[str, str],
    repository: str,
    second_engine: SecondEngine,
) -> None:
    """Pushed by digest; pulled and run elsewhere; a source edit built there from the pushed
    cache reinstalls no dependency."""
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=repository, tags=["1.0"], **registry_settings(manager, registry_bases))
    digest_file = tmp_path / "out" / "image.digest"
    pushed = run_poetry(project, "docker", "build", "--push", "--digest-file", str(digest_file))
    assert pushed.returncode == 0, pushed.output
    reference = pushed.stdout.strip()
    match = DIGEST_REFERENCE.fullmatch(reference)
    assert match and match.group("repository") == repository, pushed.stdout
    assert digest_file.read_text() == f"{reference}\n"

    second_engine.docker("pull", reference)
    output = second_engine.docker("run", "--rm", reference).stdout
    assert output.startswith("hello from hello-app: markupsafe"), output

    cli = project / "hello_app" / "cli.py"
    cli.write_text(cli.read_text().replace("hello from", "edited on another machine:"))
    remote = {"DOCKER_HOST": second_engine.socket}
    rebuilt = run_poetry(
        project, "docker", "build", "--cache-from", f"{repository}:1.0", env=remote
    )
    assert rebuilt.returncode == 0, rebuilt.output
    progress = steps(rebuilt.stderr)
    dependencies = {step: end for step, end in progress.items() if "--require-hashes" in step}
    assert dependencies and set(dependencies.values()) == {"CACHED"}, rebuilt.stderr
    environment = [s for s in progress if "venv" in s or "conda create" in s or "tini" in s]
    assert environment and all(progress[s] == "CACHED" for s in environment), rebuilt.stderr
    project_step = [s for s in progress if "hello-app==0.3.1" in s]
    assert [progress[s] for s in project_step] == ["DONE"], "the edited project is rebuilt"
    edited = second_engine.docker("run", "--rm", f"{repository}:1.0").stdout
    assert edited.startswith("edited on another machine:"), edited
    assert TEST_BASE_IMAGE
