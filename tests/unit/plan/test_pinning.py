"""The plan held to poetry-docker.lock, from values in memory: exact packages, bases by
digest, stale inputs and moved local bases refused, the development image's single stage."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from poetry_docker_plugin.conda_lock.file import CondaLock, LockedBase, LockedPackage
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.lock.model import Lock
from poetry_docker_plugin.names import CONDA_LOCK_LABEL
from poetry_docker_plugin.plan.decide import make_plan
from poetry_docker_plugin.plan.model import BaseImage, BuildPlan
from poetry_docker_plugin.plan.pinning import lock_inputs, pin
from poetry_docker_plugin.platforms import Platform
from poetry_docker_plugin.project.facts import ProjectFacts
from poetry_docker_plugin.project.settings import Settings

PROJECT = ProjectFacts(
    pyproject_path=Path("/work/hello/pyproject.toml"),
    name="hello",
    version="1.0",
    python_constraint=">=3.9,<4",
    scripts=("hello",),
)
SETTINGS = Settings(
    base_image="team/conda:1", env_manager="conda", python="3.11", runtime_base="team/slim:1"
)
DIGEST = "sha256:" + "a" * 64
PYTHON = LockedPackage(
    platform="linux-64",
    channel="conda-forge",
    name="python",
    version="3.11.2",
    build="h_0",
    url="https://conda.example.org/conda-forge/linux-64/python-3.11.2-h_0.tar.bz2",
    sha256="0" * 64,
)


def plan_of(*, editable: bool = False, local_id: str = "sha256:1") -> BuildPlan:
    """The plan on a conda base (a local image, id ``local_id``) and a registry runtime base."""
    return make_plan(
        PROJECT,
        Lock(Path("/work/hello/poetry.lock"), (), ("main",), ()),
        SETTINGS,
        platform=Platform("linux", "amd64"),
        editable=editable,
        probe_base=lambda reference, _: BaseImage(
            reference, id=local_id, glibc="2.36", envs_dir="/opt/conda/envs"
        ),
    )


def lock_of(plan: BuildPlan) -> CondaLock:
    """A lock made for ``plan``: its base a local image (id sha256:1), the runtime base from a
    registry."""
    bases = (
        LockedBase("team/conda:1", "linux/amd64", "sha256:1", local=True),
        LockedBase("team/slim:1", "linux/amd64", DIGEST, local=False),
    )
    return CondaLock(lock_inputs(plan), bases, (PYTHON,))


def test_the_plan_takes_the_locked_packages_and_registry_digests() -> None:
    plan = plan_of()
    pinned = pin(plan, lock_of(plan))
    environment = pinned.environment
    assert environment.locked_packages == (PYTHON,)
    runtime = environment.runtime_base
    assert runtime is not None and environment.from_reference(runtime) == f"team/slim:1@{DIGEST}"
    assert environment.from_reference(environment.base) == "team/conda:1", "local: by name"
    assert dict(pinned.metadata.labels)[CONDA_LOCK_LABEL] == lock_of(plan).inputs.digest


def test_a_stale_lock_is_refused_naming_what_changed() -> None:
    plan = plan_of()
    stale = dataclasses.replace(lock_of(plan), inputs=dataclasses.replace(
        lock_inputs(plan), python="3.12", conda_packages=("gdal",)))  # fmt: skip
    with pytest.raises(DockerPluginError, match="out of date") as raised:
        pin(plan, stale)
    assert 'python was "3.12" and is "3.11"' in str(raised.value)
    assert "poetry docker lock" in str(raised.value)


def test_a_local_base_that_moved_is_refused() -> None:
    lock = lock_of(plan_of())
    with pytest.raises(DockerPluginError, match=r"not the one poetry-docker\.lock locked"):
        pin(plan_of(local_id="sha256:2"), lock)


def test_the_development_image_uses_the_lock_made_for_build() -> None:
    """``shell``'s image has no runtime stage: the lock's runtime base does not make it stale."""
    lock = lock_of(plan_of())
    development = plan_of(editable=True)
    assert development.environment.runtime_base is None
    assert pin(development, lock).environment.locked_packages == (PYTHON,)
    other = dataclasses.replace(lock, inputs=dataclasses.replace(
        lock.inputs, base_images=("team/other:1", "team/slim:1")))  # fmt: skip
    with pytest.raises(DockerPluginError, match="out of date"):
        pin(development, other)
