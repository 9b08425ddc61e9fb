"""The plan held to ``poetry-docker.lock``: exact conda packages, base images by digest.

The lock is applied after ``make_plan`` has decided everything from the settings, because
what the lock must match is exactly what the plan decided (the Python chosen, the channels
as the Dockerfile names them, the bases, the platform): a lock whose inputs differ from the
plan's is stale and refused, as Poetry refuses a poetry.lock that no longer matches
pyproject.toml, rather than quietly solved anew.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from poetry_docker_plugin.conda_lock.file import CONDA_LOCK_FILE, LockInputs
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.names import CONDA_LOCK_LABEL

if TYPE_CHECKING:
    from poetry_docker_plugin.conda_lock.file import CondaLock
    from poetry_docker_plugin.plan.model import BuildPlan

# What every refusal ends with: the one command that makes the lock current.
RELOCK = "Run `poetry docker lock` to lock them again (commit the lock with the change)."


def lock_inputs(plan: BuildPlan, platforms: tuple[str, ...] = ()) -> LockInputs:
    """The inputs a lock of this plan is solved from (``platforms``: the plan's own)."""
    environment = plan.environment
    return LockInputs(
        env_manager=environment.manager,
        python=environment.python,
        conda_packages=environment.conda_packages,
        conda_channels=tuple(channel.name for channel in environment.conda_channels),
        base_images=tuple(base.reference for base in environment.bases),
        platforms=platforms or (str(environment.platform),),
    )


def held_to_lock(plan: BuildPlan, lock: CondaLock | None) -> tuple[BuildPlan, str]:
    """``pin`` when there is a lock; without one, the plan as it is and, for a conda
    environment, what to say once: how to lock it."""
    if lock is not None:
        return pin(plan, lock), ""
    if plan.environment.manager != "conda":
        return plan, ""
    return plan, (
        f"No {CONDA_LOCK_FILE}: the conda packages and the base image are solved and pulled "
        "anew by every cold build. Run `poetry docker lock` to pin them."
    )


def pin(plan: BuildPlan, lock: CondaLock) -> BuildPlan:
    """``plan`` with the lock's packages and base digests; refused when the lock is stale or
    a local base image is not the one locked."""
    environment = plan.environment
    wanted = lock_inputs(plan)
    bases = wanted.base_images
    if plan.project.editable and lock.inputs.base_images[: len(bases)] == bases:
        # The development image of ``shell`` is the environment's stage alone: a lock made
        # for ``build`` also names the runtime stage's base, which this image does not use.
        wanted = dataclasses.replace(wanted, base_images=lock.inputs.base_images)
    changes = lock.inputs.changes(wanted)
    if changes:
        raise DockerPluginError(
            f"{CONDA_LOCK_FILE} is out of date with the project: {'; '.join(changes)}. "
            f"Nothing was built: the lock pins the conda packages and base images of other "
            f"inputs. {RELOCK}"
        )
    platform = str(environment.platform)
    pinned = []
    for base in environment.bases:
        locked = lock.base(base.reference, platform)
        if locked is None:
            raise DockerPluginError(
                f"{CONDA_LOCK_FILE} has no digest of the base image {base.reference} for "
                f"{platform} (the file was edited). {RELOCK}"
            )
        if not locked.local:
            pinned.append((base.reference, f"{base.reference}@{locked.digest}"))
        elif base.id is not None and base.id != locked.digest:
            raise DockerPluginError(
                f"The base image {base.reference} is not the one {CONDA_LOCK_FILE} locked: it "
                f"is the local image {base.id}, and the lock has {locked.digest} (a local "
                "image has no registry digest, so the lock holds its id). Nothing was built. "
                "Restore that image, or run `poetry docker lock --update` to lock the image "
                "as it is now."
            )
    packages = lock.packages_for(environment.platform.conda_subdir)
    if environment.manager != "venv" and not packages:
        raise DockerPluginError(
            f"{CONDA_LOCK_FILE} holds no conda package for {platform} (the file was edited). "
            f"{RELOCK}"
        )
    labels = (*plan.metadata.labels, (CONDA_LOCK_LABEL, lock.inputs.digest))
    return dataclasses.replace(
        plan,
        environment=dataclasses.replace(
            environment, locked_packages=packages, pinned_bases=tuple(pinned)
        ),
        metadata=dataclasses.replace(plan.metadata, labels=labels),
    )
