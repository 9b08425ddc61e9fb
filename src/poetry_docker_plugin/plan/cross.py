"""A build for another platform: what of the target's image is made on the build platform.

Placing files needs nothing of the target to run. Beside the groups of locked wheels
(``layers.CrossInstall``), a venv's target stage can then only copy: the venv is created by
the build platform's python3 when it is the same release at the same path (a venv records
both), tini is unpacked from Debian's package for the target's architecture, the account
and the shell's lines are written into copies of the target's files, the library check and
the SBOM read the assembled image's files, and the project's wheel is unpacked like the
locked ones. What must run the target's code stays emulated: apt-packages (maintainer
scripts), sdists and other wheels built in the image, a conda environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from poetry_docker_plugin.plan.model import NativeSteps

if TYPE_CHECKING:
    from poetry_docker_plugin.plan.model import BaseImage, BuildPlan


def native_steps(plan: BuildPlan, twin: BaseImage | None) -> tuple[NativeSteps | None, str]:
    """The steps of ``plan`` (for another platform than the engine's) that can run on the
    build platform, whose base image is ``twin``; else None and why not (said with ``-v``)."""
    environment = plan.environment
    base = environment.base
    if environment.manager != "venv":
        return None, (
            f"a {environment.manager} environment is created by the target's {environment.manager}"
        )
    if environment.runtime_base is not None:
        return None, "the environment is copied into another runtime base"
    if twin is None or twin.platform is None:
        return None, "the base image has no variant for the build platform"
    if (
        not base.python_release
        or twin.python_release != base.python_release
        or twin.python_executable != base.python_executable
        or not (base.python_executable or "").startswith("/")
    ):
        return None, (
            f"the base image's {twin.platform} variant has Python {twin.python_release or '?'} "
            f"at {twin.python_executable or '?'}, the target's {base.python_release or '?'} "
            f"at {base.python_executable or '?'} (a venv records both)"
        )
    layers = plan.dependencies.layers
    if layers.groups and layers.cross is None:
        return None, "the groups of locked wheels are installed by the target's pip"
    if plan.runtime.user.gid is not None:
        return None, "the host's user is added by the target's tools"
    project = plan.project
    native_project = (
        project.package_mode and not project.editable and not project.wheel_built_in_image
    )
    steps = NativeSteps(twin.platform, environment.platform.debian_architecture, native_project)
    return steps, ""
