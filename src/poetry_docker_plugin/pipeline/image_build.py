"""The engine's build of a staged context, untagged (``tagging`` moves the tags after), with
the labels that say what it was made from; what the build's steps said the user should know
(system libraries installed), and what a failed build lacked (``system.failures``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from poetry_docker_plugin.errors import BuildFailed, DockerPluginError
from poetry_docker_plugin.names import FINGERPRINT_LABEL, INLINE_CACHE_LABEL, INPUTS_LABEL
from poetry_docker_plugin.pipeline.reproducible import EngineWay, engine_way, normalise_image

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from poetry_docker_plugin.engine.client import Engine
    from poetry_docker_plugin.freshness.request import BuildRequest, Prepared


def build_untagged(
    engine: Engine,
    prepared: Prepared,
    request: BuildRequest,
    cache_from: tuple[str, ...],
    context: Path,
    secrets: dict[str, Path],
    say: Callable[[str], None],
    *,
    quiet: bool,
) -> str:
    """``docker build`` of the staged ``context``, with no tag; the image's id. A reproducible
    build (``request.epoch``) is made so as the engine allows (``reproducible.engine_way``)."""
    plan = prepared.plan
    labels = {
        FINGERPRINT_LABEL: prepared.fingerprint,
        INPUTS_LABEL: json.dumps(dict(prepared.inputs.parts), separators=(",", ":")),
    }
    build_args = request.build_args
    if request.inline_cache:
        build_args = (*build_args, ("BUILDKIT_INLINE_CACHE", "1"))
        labels[INLINE_CACHE_LABEL] = "1"
    way = EngineWay() if request.epoch is None else engine_way(engine, request.epoch)
    options: dict[str, Any] = {
        "labels": labels,
        "build_args": (*build_args, *way.build_args),
        "cache_from": cache_from,
        "timestamp": way.timestamp,
        "outputs": way.outputs,
        "on_output": lambda output: _say_notes(output, say),
    }
    image_id = _build(engine, prepared, request, context, secrets, options, quiet=quiet)
    if way.normalise and request.epoch is not None:
        bases = [base.id or base.reference for base in plan.environment.bases]
        return normalise_image(engine, image_id, bases, request.epoch, say)
    return image_id


def _say_notes(output: str, say: Callable[[str], None]) -> None:
    """Says again, once each, what the steps told (``poetry-docker: installed ...``): on a
    terminal the engine folds a finished step's lines away."""
    from poetry_docker_plugin.system.failures import notes

    for note in notes(output):
        say(note)


def _build(
    engine: Engine,
    prepared: Prepared,
    request: BuildRequest,
    context: Path,
    secrets: dict[str, Path],
    options: dict[str, Any],
    *,
    quiet: bool,
) -> str:
    """The engine's build, and what to say when a download was not trusted."""
    plan = prepared.plan
    try:
        return engine.build(
            context,
            (),
            no_cache=request.no_cache,
            platform=str(plan.environment.platform),
            secrets=secrets,
            network=request.network,
            quiet=quiet,
            ssh=plan.dependencies.ssh,
            **options,
        )
    except BuildFailed as failure:
        from poetry_docker_plugin.system.failures import explain

        explanation = explain(failure.output)
        if explanation is None:
            raise
        raise DockerPluginError(f"{failure} {explanation}", exit_code=failure.exit_code) from None
