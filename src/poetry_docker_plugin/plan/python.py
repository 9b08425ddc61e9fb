"""Which Python the image gets: the newest the project allows for which every locked package
installs, or the base image's own (venv). Decided from values only."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from poetry_docker_plugin.engine.refs import ImageReference
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.lock.wheels import Target, python_allows

if TYPE_CHECKING:
    from poetry_docker_plugin.lock.model import Lock
    from poetry_docker_plugin.plan.model import BaseImage
    from poetry_docker_plugin.project.facts import ProjectFacts

# Minor versions that both conda-forge and the python.org images carry, newest first.
PYTHONS = ("3.14", "3.13", "3.12", "3.11", "3.10", "3.9", "3.8")


def choose_python(
    project: ProjectFacts, lock: Lock, machine: str, requested: str | None, glibc: int
) -> tuple[str, str]:
    """The newest Python the project allows for which every locked package is installable.

    "Installable" means a Linux wheel for that Python, or only an sdist (a package that
    publishes no wheels at all is meant to be built). A requested version is only checked
    against the project's constraint.
    """
    constraint = project.python_constraint
    if requested:
        if not python_allows(constraint, requested):
            raise DockerPluginError(
                f"Python {requested} (from --python or the `python` setting) is not allowed by "
                f"the project's python constraint {constraint!r} in {project.pyproject_path}. "
                "Choose a version the constraint allows, or change the constraint and run "
                "`poetry lock`."
            )
        return requested, "requested"
    allowed = [v for v in PYTHONS if python_allows(constraint, v)]
    if not allowed:
        raise DockerPluginError(
            f"No Python that images carry ({', '.join(reversed(PYTHONS))}) is allowed by the "
            f"project's python constraint {constraint!r} in {project.pyproject_path}. Widen the "
            "constraint, or pass --python with a version your base image has."
        )
    check_platform_orphans(project, lock, Target(allowed[0], machine, glibc))
    blockers: dict[str, list[str]] = {}
    for python in allowed:
        missing = lock.uninstallable(Target(python, machine, glibc))
        if not missing:
            reason = "the newest the project allows"
            if python != allowed[0]:
                skipped = "; ".join(f"{v}: {', '.join(blockers[v])}" for v in blockers)
                reason = f"newer ones lack wheels ({skipped})"
            return python, reason
        blockers[python] = missing
    detail = "; ".join(f"{python}: {', '.join(missing)}" for python, missing in blockers.items())
    raise DockerPluginError(
        f"No Python allowed by {constraint!r} has Linux {machine} wheels for every locked "
        f"package ({detail}). Pass --python (or set `python` in [tool.poetry-docker]) to choose "
        "one anyway: the packages without a wheel for it are then built from their sdists. Or "
        "update those packages with `poetry update` to versions with wheels for a newer Python."
    )


def check_platform_orphans(project: ProjectFacts, lock: Lock, target: Target) -> None:
    """Refuses packages that no Python and no base image could install on the target's machine
    (no wheel for the platform, no sdist), naming the only fix that helps: a marker."""
    orphans = lock.platform_orphans(target)
    if orphans:
        raise DockerPluginError(
            f"These locked packages publish neither a wheel for Linux {target.machine} nor a "
            f"source distribution, so no image can install them: {', '.join(orphans)} (in "
            f"{lock.path}). No Python or base image changes that. If they are only needed on "
            "other systems, give them a marker in the dependency that brings them in (for "
            "example `markers = \"sys_platform == 'win32'\"` in pyproject.toml) and run "
            "`poetry lock`; or exclude their group with --without."
        )


def venv_python(
    project: ProjectFacts,
    lock: Lock,
    requested: str | None,
    base: BaseImage,
    machine: str,
    glibc: int,
) -> tuple[str, str]:
    """The venv manager uses the base image's own Python, so that Python must fit the project."""
    reference = ImageReference.parse(base.reference)
    tagged = re.match(r"3\.\d+", reference.tag or "") if reference.name == "python" else None
    if base.python:
        python, reason = base.python, f"found in the base image {base.reference}"
        if requested and requested != python:
            raise DockerPluginError(
                f"Python {requested} was requested (from --python or the `python` "
                f"setting), but the base image {base.reference} has Python {python}, and the "
                "venv manager uses the base image's own Python. Choose a base image with "
                f"Python {requested}, or drop the request."
            )
    elif tagged:
        python, reason = tagged.group(), f"the Python of the base image {base.reference}"
    elif requested:
        python, reason = requested, "requested (the base image's Python is trusted to match)"
    else:
        raise DockerPluginError(
            f"Cannot tell which Python the base image {base.reference} has: it was not looked "
            "at (with --print or --output a missing base image is not pulled, and without an "
            "engine none is looked at). Pull or build the image, or set `python` in "
            "[tool.poetry-docker] or pass --python."
        )
    constraint = project.python_constraint
    if not python_allows(constraint, python):
        raise DockerPluginError(
            f"The base image {base.reference} has Python {python}, which the project's "
            f"python constraint {constraint!r} in {project.pyproject_path} "
            "does not allow. Choose a base image with an allowed Python, or change the constraint."
        )
    target = Target(python, machine, glibc)
    check_platform_orphans(project, lock, target)
    missing = lock.uninstallable(target)
    if missing:
        raise DockerPluginError(
            f"The base image {base.reference} has Python {python}, and the venv manager uses "
            f"it as it is, but these locked packages publish Linux {machine} wheels for other "
            f"Pythons only: {', '.join(missing)}. Set `base-image` in [tool.poetry-docker] (or "
            "--base-image) to an image with a Python they have wheels for, or update those "
            "packages with `poetry update` to versions with wheels for this one."
        )
    return python, reason
