"""Builds for another platform: which steps run on the build platform, and which emulated.

The stages that only place files (the groups of locked wheels, ``plan.layers``) run natively
when the base image has a variant for the engine's own platform with the same Python (a
multi-platform image, as the published python and debian images are): asked of the engine
like the target's base. Everything else runs emulated, and ``-v`` says so, with why.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Protocol

from cleo.io.outputs.output import Verbosity

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.plan.layers import cross_install

if TYPE_CHECKING:
    from collections.abc import Callable

    from poetry_docker_plugin.freshness.request import BuildRequest
    from poetry_docker_plugin.plan.model import BaseImage, BuildPlan
    from poetry_docker_plugin.platforms import Platform


class Speaker(Protocol):
    """The builder, as far as this needs it: the request, the engine's platform, and what it
    said once already, and how it says."""

    said: set[str]
    request: BuildRequest

    @property
    def engine_platform(self) -> Platform: ...

    def say(self, message: str, verbosity: Verbosity = Verbosity.NORMAL) -> None: ...


def planned_natively(
    plan: BuildPlan, probe: Callable[..., BaseImage], speaker: Speaker
) -> BuildPlan:
    """``plan`` with its file-only stages on the engine's platform where they can run there,
    for a ``--platform`` of another; what runs emulated is said with ``-v``, once per
    command. ``probe`` looks at a base image for a ``platform``."""
    environment = plan.environment
    if speaker.request.platform is None:
        return plan
    try:
        build_platform = speaker.engine_platform
    except (DockerPluginError, OSError):  # an engine that cannot say: its build says why
        return plan
    if build_platform == environment.platform:
        return plan
    layers = plan.dependencies.layers
    why = ""
    if environment.manager != "venv":
        why = (
            f"a {environment.manager} environment is created by the target's {environment.manager}"
        )
    elif layers.groups:
        try:
            twin = probe(environment.base.reference, "venv", platform=build_platform).python
        except DockerPluginError:
            twin = None
        layers, why = cross_install(
            layers, environment.target, environment.prefix, str(build_platform), twin
        )
        plan = dataclasses.replace(
            plan, dependencies=dataclasses.replace(plan.dependencies, layers=layers)
        )
    report = emulation_report(plan, str(build_platform), why)
    if report not in speaker.said:
        speaker.said.add(report)
        speaker.say(report, Verbosity.VERBOSE)
    return plan


def emulation_report(plan: BuildPlan, build_platform: str, why: str) -> str:
    """The steps of a build for another platform that run its code, and why each must."""
    target = plan.environment.platform
    dependencies = plan.dependencies
    native, emulated = [], []
    if dependencies.layers.cross is not None:
        native.append(f"the {len(dependencies.layers.groups)} groups of locked wheels")
    elif dependencies.layers.groups:
        emulated.append(f"the groups of locked wheels ({why})")
    emulated.append(f"creating the {plan.environment.manager} environment (runs {target} Python)")
    emulated.append("tini from Debian, the user, the shared-library check and the SBOM")
    if plan.environment.apt_packages:
        emulated.append("apt-packages (Debian's maintainer scripts)")
    if plan.needs_builder:
        emulated.append("building sdists, git and path dependencies (compilers of the target)")
    if dependencies.layers.seeded:
        emulated.append("pip, setuptools, wheel over the environment's own (pip of the target)")
    if plan.project.package_mode:
        emulated.append("installing the project's wheel (pip of the target)")
    lines = [f"Building for {target} on {build_platform}:"]
    lines += [f"  natively on {build_platform}: {step}" for step in native]
    lines += [f"  emulated ({target}): {step}" for step in emulated]
    return "\n".join(lines)
