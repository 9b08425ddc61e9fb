"""The files of the stages that install the groups of locked wheels (``plan.layers``).

Native builds: each group's requirements file, as pip reads it. Builds for another platform
whose groups run on the build platform (``CrossInstall``): the same files without markers
(the plan kept those that apply on the target, and the build platform's pip would judge them
by its own machine), PyPA's installer pinned by hash, and the script that runs it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from poetry_docker_plugin.lock.export import requirements_text

if TYPE_CHECKING:
    from poetry_docker_plugin.plan.model import BuildPlan

INSTALL_WHEELS_FILE = "install_wheels.py"
INSTALLER_REQUIREMENTS_FILE = "installer-requirements.txt"


def layer_files(plan: BuildPlan) -> dict[str, str]:
    """The build context's files for the groups' stages, by name."""
    from importlib.resources import files as package_files

    dependencies = plan.dependencies
    layers = dependencies.layers
    cross = layers.cross is not None
    texts = {
        group.file: requirements_text(
            (dataclasses.replace(r, marker="") for r in group.requirements)
            if cross
            else group.requirements,
            dependencies.indexes,
        )
        for group in layers.groups
    }
    if cross:
        resources = package_files("poetry_docker_plugin.render.resources")
        for name in (INSTALL_WHEELS_FILE, INSTALLER_REQUIREMENTS_FILE):
            texts[name] = resources.joinpath(name).read_text(encoding="utf-8")
    return texts
