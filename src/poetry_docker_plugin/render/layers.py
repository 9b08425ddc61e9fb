"""The files of the stages that install the groups of locked wheels (``plan.layers``), and
of the stages that make another platform's files natively (``plan.native``).

Native builds: each group's requirements file, as pip reads it. Builds for another platform
whose groups run on the build platform (``CrossInstall``): the same files without markers
(the plan kept those that apply on the target, and the build platform's pip would judge them
by its own machine), PyPA's installer pinned by hash, and the script that runs it. Builds
whose environment is made there too (``NativeSteps``): the script that writes the target's
tini, account and activation lines, and its settings.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

from poetry_docker_plugin.lock.export import requirements_text

if TYPE_CHECKING:
    from poetry_docker_plugin.plan.model import BuildPlan

INSTALL_WHEELS_FILE = "install_wheels.py"
INSTALLER_REQUIREMENTS_FILE = "installer-requirements.txt"
TARGET_FILES_SCRIPT = "target_files.py"
TARGET_FILES_SETTINGS = "target-files.json"
# Where the native stages mount the target's files (its base, then the assembled image).
TARGET_ROOT = "/tmp/poetry-docker-target"


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
    resources = package_files("poetry_docker_plugin.render.resources")
    native = plan.native
    if cross or (native is not None and native.project):
        for name in (INSTALL_WHEELS_FILE, INSTALLER_REQUIREMENTS_FILE):
            texts[name] = resources.joinpath(name).read_text(encoding="utf-8")
    if native is not None:
        texts[TARGET_FILES_SCRIPT] = resources.joinpath(TARGET_FILES_SCRIPT).read_text(
            encoding="utf-8"
        )
        texts[TARGET_FILES_SETTINGS] = target_files_settings(plan)
    return texts


def target_files_settings(plan: BuildPlan) -> str:
    """What ``target_files.py`` writes: tini's architecture, the account, the line."""
    from poetry_docker_plugin.names import BASHRC_LINE

    native, user = plan.native, plan.runtime.user
    settings = {
        "debian_architecture": native.debian_architecture if native else "",
        "account": user.account,
        "uid": user.uid,
        "workdir": plan.runtime.workdir,
        "bashrc_line": BASHRC_LINE,
    }
    return json.dumps(settings, indent=1, sort_keys=True) + "\n"
