"""``build --sbom PATH``: the SBOM the image carries (``render/sbom_inputs.py`` says how it is
made), copied out of the image to the user's file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.names import SBOM_PATH

if TYPE_CHECKING:
    from pathlib import Path

    from poetry_docker_plugin.engine.client import Engine


def write_sbom(engine: Engine, image: str, target: Path) -> None:
    """Copies the image's SBOM to ``target`` on the host, whole or not at all.

    The file is read from a created (never started) container, so an image without a shell
    or ``cat`` serves as well; it is written beside ``target`` and renamed over it.
    """
    from poetry_docker_plugin.util.output_files import write_atomically

    content = engine.read_file(image, SBOM_PATH)
    if content is None:
        raise DockerPluginError(
            f"The image {image} has no SBOM at {SBOM_PATH}: it was not built by this version "
            "of the plugin. Rebuild it with `poetry docker build --no-cache --sbom PATH`."
        )
    write_atomically("--sbom", target, content)
