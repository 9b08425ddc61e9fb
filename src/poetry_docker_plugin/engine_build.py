"""The engine's build of a staged context, untagged (``tagging`` moves the tags after), with
the labels that say what it was made from, and what to say when a download was not trusted."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import BuildFailed, DockerPluginError
from poetry_docker_plugin.names import FINGERPRINT_LABEL, INLINE_CACHE_LABEL, INPUTS_LABEL

if TYPE_CHECKING:
    from pathlib import Path

    from poetry_docker_plugin.engine.client import Engine
    from poetry_docker_plugin.request import BuildRequest, Prepared


def build_untagged(
    engine: Engine,
    prepared: Prepared,
    request: BuildRequest,
    cache_from: tuple[str, ...],
    context: Path,
    secrets: dict[str, Path],
    *,
    quiet: bool,
) -> str:
    """``docker build`` of the staged ``context``, with no tag; the image's id."""
    plan = prepared.plan
    labels = {
        FINGERPRINT_LABEL: prepared.fingerprint,
        INPUTS_LABEL: json.dumps(dict(prepared.inputs.parts), separators=(",", ":")),
    }
    build_args = request.build_args
    if request.inline_cache:
        build_args = (*build_args, ("BUILDKIT_INLINE_CACHE", "1"))
        labels[INLINE_CACHE_LABEL] = "1"
    try:
        return engine.build(
            context,
            (),
            labels,
            no_cache=request.no_cache,
            platform=str(plan.environment.platform),
            build_args=build_args,
            secrets=secrets,
            network=request.network,
            quiet=quiet,
            ssh=plan.dependencies.ssh,
            cache_from=cache_from,
        )
    except BuildFailed as failure:
        if not failure.untrusted:
            raise
        raise DockerPluginError(
            f"{failure} A download failed certificate verification "
            "(CERTIFICATE_VERIFY_FAILED): behind an intercepting proxy, set `ca-bundle` "
            "in [tool.poetry-docker] to the PEM file of the proxy's certificate "
            "authority (pip before Python 3.10 and conda do not use the system's trust "
            "store).",
            exit_code=failure.exit_code,
        ) from None
