"""The dev containers of a folder that an older development image left behind.

The Dev Containers CLI (and VS Code) starts an existing container as it is, whatever its
image; it finds it by the labels it put on it, after the file's initializeCommand has run. A
stopped one holds nothing of the user's (the working tree is mounted), so it is removed and
the next start creates a container of the fresh image. A running one is in use: it is named,
never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from poetry_docker_plugin.engine.client import Engine

# The labels the Dev Containers CLI (and VS Code) put on the containers it creates.
FOLDER_LABEL = "devcontainer.local_folder"
CONFIG_LABEL = "devcontainer.config_file"


@dataclass(frozen=True)
class Retired:
    """What ``retire_old_containers`` did: the ids of the stopped containers it removed, and
    of the running ones of an older image that it left to the user."""

    removed: tuple[str, ...] = ()
    running: tuple[str, ...] = ()


def retire_old_containers(engine: Engine, image: str, folder: Path, config: Path) -> Retired:
    """Removes the stopped dev containers of ``folder`` and its ``config`` file that were
    created from another image than the one ``image`` names now; names the running ones."""
    current = engine.image_id(image)
    if current is None:
        return Retired()
    removed, running = [], []
    for container in engine.containers({FOLDER_LABEL: str(folder), CONFIG_LABEL: str(config)}):
        if container.image == current:
            continue
        if container.running:
            running.append(container.id)
        elif engine.remove_container(container.id):
            removed.append(container.id)
    return Retired(tuple(removed), tuple(running))
