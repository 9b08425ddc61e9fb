"""Builds for another platform: which steps run on the build platform, and which emulated.

The stages that only place files (the groups of locked wheels, ``plan.layers``; the venv,
tini, the account, the checks and the project's wheel, ``plan.native``, decided by
``plan/cross``) run natively when the base image has a variant for the engine's own platform
with the same Python (a
multi-platform image, as the published python and debian images are): asked of the engine
like the target's base. The rest runs emulated, and ``-v`` says which, with why.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Protocol

from cleo.io.outputs.output import Verbosity

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.plan.cross import native_steps
from poetry_docker_plugin.plan.layers import cross_install
from poetry_docker_plugin.plan.model import BaseImage

if TYPE_CHECKING:
    from pathlib import Path

    from poetry_docker_plugin.engine.client import Engine
    from poetry_docker_plugin.freshness.request import BuildRequest
    from poetry_docker_plugin.plan.model import BuildPlan
    from poetry_docker_plugin.platforms import Platform


class Speaker(Protocol):
    """The builder, as far as this needs it: the request, the engine and its platform, how
    it looks at a base image, and what it said once already, and how it says."""

    said: set[str]
    request: BuildRequest

    @property
    def cache_dir(self) -> Path: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def engine_platform(self) -> Platform: ...

    def probe_base(
        self, reference: str, manager: str, *, platform: Platform, pull: bool, refresh: bool
    ) -> BaseImage: ...

    def say(self, message: str, verbosity: Verbosity = Verbosity.NORMAL) -> None: ...


def probe_twin(speaker: Speaker, base: BaseImage, platform: Platform) -> BaseImage | None:
    """The base image's variant for the build ``platform``, looked at without moving the
    base's tag (a pull tags what it pulls): the target's image is tagged back, so that the
    build and the next call's no-change check find the base they planned with. What it was
    is kept beside the base's facts, by the reference and the target's image id: while that
    variant is still on this machine, the next call asks no registry."""
    from poetry_docker_plugin.pipeline.base_probe import (
        PROBE_CACHE_FILE,
        cached_facts,
        checked_facts,
        store_facts,
    )

    # By the reference and the id: a variant belongs to the name's index, not to the image
    # (the same image may be another index's variant, or a name of its own with none).
    cache = speaker.cache_dir / PROBE_CACHE_FILE
    key = f"twin {base.reference} {base.id} {platform}"
    known = cached_facts(cache, key) if base.id else None
    if known is not None and speaker.engine.config_of(known["id"]) is not None:
        return BaseImage.from_facts(base.reference, checked_facts(base.reference, known))
    engine = speaker.engine
    try:
        twin = speaker.probe_base(
            base.reference, "venv", platform=platform, pull=True, refresh=False
        )
    finally:  # also when the variant could not be looked at, after its pull
        if base.id is not None and engine.image_id(base.reference) != base.id:
            engine.tag(base.id, base.reference)
    if twin.platform != str(platform):
        return None
    if base.id is not None and twin.id is not None:
        facts = {
            "id": twin.id,
            "platform": twin.platform,
            "python": twin.python,
            "python_release": twin.python_release,
            "python_executable": twin.python_executable,
        }
        store_facts(cache, key, {name: value for name, value in facts.items() if value})
    return twin


def planned_natively(plan: BuildPlan, speaker: Speaker, *, pull: bool = True) -> BuildPlan:
    """``plan`` with its file-only stages on the engine's platform where they can run there,
    for a ``--platform`` of another; what runs emulated is said with ``-v``, once per
    command. Without ``pull`` (only files are written) the base's variant for the engine's
    platform is not looked for, and everything is planned emulated."""
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
    why = native_why = ""
    twin: BaseImage | None = None
    if environment.manager == "venv" and pull:
        try:
            twin = probe_twin(speaker, environment.base, build_platform)
        except DockerPluginError:
            twin = None
    if environment.manager != "venv":
        why = (
            f"a {environment.manager} environment is created by the target's {environment.manager}"
        )
    elif layers.groups:
        layers, why = cross_install(
            layers,
            environment.target,
            environment.prefix,
            str(build_platform),
            twin.python if twin else None,
        )
        plan = dataclasses.replace(
            plan, dependencies=dataclasses.replace(plan.dependencies, layers=layers)
        )
    native, native_why = native_steps(plan, twin)
    plan = dataclasses.replace(plan, native=native)
    report = emulation_report(plan, str(build_platform), why, native_why)
    if report not in speaker.said:
        speaker.said.add(report)
        speaker.say(report, Verbosity.VERBOSE)
    return plan


def emulation_report(plan: BuildPlan, build_platform: str, why: str, native_why: str = "") -> str:
    """The steps of a build for another platform that run its code, and why each must."""
    target = plan.environment.platform
    dependencies = plan.dependencies
    native, emulated = [], []
    if dependencies.layers.cross is not None:
        native.append(f"the {len(dependencies.layers.groups)} groups of locked wheels")
    elif dependencies.layers.groups:
        emulated.append(f"the groups of locked wheels ({why})")
    steps = "tini from Debian, the user, the shared-library check and the SBOM"
    manager = plan.environment.manager
    if plan.native is not None:
        native.append(f"creating the {manager} environment, {steps}")
        if dependencies.layers.seeded:
            native.append("pip, setuptools, wheel over the environment's own (pure wheels)")
    else:
        emulated.append(f"creating the {manager} environment, {steps} ({native_why})")
        if dependencies.layers.seeded:
            emulated.append("pip, setuptools, wheel over the environment's own (pip of the target)")
    if plan.environment.apt_packages:
        emulated.append("apt-packages (Debian's maintainer scripts)")
    if plan.needs_builder:
        emulated.append("building sdists, git and path dependencies (compilers of the target)")
    if dependencies.local_wheels:
        emulated.append("installing path dependencies' wheels (pip of the target)")
    if plan.project.package_mode:
        if plan.native is not None and plan.native.project:
            native.append("installing the project's wheel")
        else:
            emulated.append("installing the project's wheel (pip of the target)")
    lines = [f"Building for {target} on {build_platform}:"]
    lines += [f"  natively on {build_platform}: {step}" for step in native]
    lines += [f"  emulated ({target}): {step}" for step in emulated]
    if not emulated:
        lines.append(f"  emulated ({target}): nothing")
    return "\n".join(lines)
