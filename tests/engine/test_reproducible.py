"""``--reproducible``: the same inputs built twice from nothing give the same image id, and
another engine with none of the first one's layers or caches pushes the same digest.

"From nothing" here: ``--no-cache`` on the first engine (BuildKit's pip and conda cache mounts
stay: emptying them would empty them for every build of this shared engine, and what they hold
is checked by hash anyway); the second engine of the push tests starts with no image, layer or
cache at all. When ids differ, the test prints what differs (``image_diff``), not two ids.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from tests.conftest import DOCKER, SecondEngine, configure, copy_fixture, docker, run_poetry
from tests.engine.test_push import DIGEST_REFERENCE, registry_bases, registry_settings, repository
from tests.image_diff import differences

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import Registry

__all__ = ["registry_bases", "repository"]  # fixtures, used by name

# (fixture, manager, what its image prints)
CASES = {
    "venv-example": ("examples/sample-app", "venv", "rows"),
    "conda-runtime-stage": ("flat-script", "conda", "hello from"),
}


@pytest.fixture
def unique_name() -> Iterator[str]:
    name = f"pdp-repro-{uuid.uuid4().hex[:10]}"
    yield name
    images = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", name, check=False)
    for reference in images.stdout.split():
        docker("image", "rm", "--force", reference, check=False)


def settings_for(manager: str, base_image: str, conda_base_image: str) -> dict[str, object]:
    if manager == "venv":
        return {"base_image": base_image}
    return {
        "base_image": conda_base_image,
        "env_manager": "conda",
        "python": "3.11",
        "conda_packages": ["actdemo"],
        "runtime_base": base_image,
    }


@pytest.mark.parametrize("case", list(CASES))
def test_two_builds_from_nothing_are_bit_identical(
    tmp_path: Path, case: str, base_image: str, conda_base_image: str, unique_name: str
) -> None:
    fixture, manager, greeting = CASES[case]
    project = copy_fixture(fixture, tmp_path)
    configure(project, image=unique_name, **settings_for(manager, base_image, conda_base_image))
    ids = []
    for turn in ("first", "second"):
        built = run_poetry(project, "docker", "build", "--reproducible", "--no-cache", "-v")
        assert built.returncode == 0, built.output
        assert "Normalising" in built.stderr, built.stderr[-2000:]
        reference = built.stdout.strip().splitlines()[-1]  # -v writes more before it
        ids.append(docker("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip())
        docker("tag", reference, f"{unique_name}:{turn}")
    assert ids[0] == ids[1], differences(f"{unique_name}:first", f"{unique_name}:second")
    created = docker("image", "inspect", "--format", "{{.Created}}", ids[0]).stdout
    assert created.startswith("1980-01-01T00:00:00"), "no git here: the epoch is 1980"
    output = docker("run", "--rm", f"{unique_name}:first").stdout
    assert greeting in output, output
    again = run_poetry(project, "docker", "build", "--reproducible")
    assert again.returncode == 0 and "is up to date" in again.stderr, again.output
    # Issue 29, item 1: another epoch was answered "up to date" from the record. Asked with
    # `run --no-build`, which says so without building (a rebuild would cost a minute).
    current = run_poetry(project, "docker", "run", "--reproducible", "--no-build", "--", "true")
    assert current.returncode == 0, current.output
    epoch = {"SOURCE_DATE_EPOCH": "315532900"}
    moved = run_poetry(
        project, "docker", "run", "--reproducible", "--no-build", "--", "true", env=epoch
    )
    assert moved.returncode == 1 and "is out of date" in moved.stderr, moved.output


def test_another_engine_pushes_the_same_digest(
    tmp_path: Path,
    registry: Registry,
    registry_bases: dict[str, str],
    repository: str,
    second_engine: SecondEngine,
) -> None:
    """Built and pushed here, then built from nothing on the second engine (no image, layer or
    cache of this one; its bases pulled from the registry) and pushed under another tag."""
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=repository, **registry_settings("venv", registry_bases))
    digests = []
    for tag, environment in (("here", {}), ("there", {"DOCKER_HOST": second_engine.socket})):
        pushed = run_poetry(
            project, "docker", "build", "--reproducible", "--push", "--tag", f"{repository}:{tag}",
            "--network", "host",  # the second engine's bridge has no route out (no masquerade)
            env=environment,
        )  # fmt: skip
        assert pushed.returncode == 0, pushed.output
        match = DIGEST_REFERENCE.fullmatch(pushed.stdout.strip())
        assert match, pushed.output
        digests.append(pushed.stdout.strip().partition("@")[2])
    if digests[0] != digests[1]:
        second_engine.docker("pull", f"{repository}:here")
        client = ("env", f"DOCKER_HOST={second_engine.socket}", DOCKER)
        diff = differences(f"{repository}:here", f"{repository}:there", docker=client)
        pytest.fail(f"{digests[0]} != {digests[1]}:\n{diff}")
    second_engine.docker("image", "rm", "--force", f"{repository}:there", check=False)
