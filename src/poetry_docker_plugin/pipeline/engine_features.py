"""The plan fitted to the engine that builds it: Dockerfile features that only newer built-in
frontends take (``COPY --link``: Docker 23 and later), used when the engine says its version,
plain ``COPY`` otherwise (Docker 20.10 here, buildah, or files written without an engine)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from poetry_docker_plugin.engine.native_platform import version_answered
from poetry_docker_plugin.plan.layers import copy_link_supported

if TYPE_CHECKING:
    from collections.abc import Callable

    from poetry_docker_plugin.plan.model import BuildPlan


def fitted_to_engine(
    plan: BuildPlan, pending_answer: Callable[[], str] | None, is_podman: Callable[[], bool]
) -> BuildPlan:
    """``plan`` with ``COPY --link`` for its dependency layers when the engine takes it
    (``pending_answer``: the engine's ``version`` asked ahead; None when it was not asked)."""
    version = version_answered(pending_answer)
    if not version or not copy_link_supported("podman" if is_podman() else "docker", version):
        return plan
    layers = dataclasses.replace(plan.dependencies.layers, copy_link=True)
    dependencies = dataclasses.replace(plan.dependencies, layers=layers)
    return dataclasses.replace(plan, dependencies=dependencies)
