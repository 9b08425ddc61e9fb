"""What the engine is asked of containers that exist (running or stopped): which carry some
labels, what image each was made from and whether it runs, and removing one. Running a
container is run.py's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from poetry_docker_plugin.engine.command_line import EngineCommandLine
from poetry_docker_plugin.engine.images import full_id

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class ContainerState:
    """What ``docker inspect`` says of one container."""

    id: str
    image: str  # the id of the image it was created from
    running: bool


class ContainerCalls(EngineCommandLine):
    """The client's calls about existing containers (``Engine`` has them)."""

    def containers(self, labels: Mapping[str, str]) -> list[ContainerState]:
        """Every container, running or stopped, that has each of ``labels`` with its value;
        none when the engine cannot tell (a container removed meanwhile is left out)."""
        filters = [word for k, v in labels.items() for word in ("--filter", f"label={k}={v}")]
        listed = self.capture(["ps", "--all", "--quiet", "--no-trunc", *filters])
        ids = listed.stdout.split()
        if listed.returncode != 0 or not ids:
            return []
        inspected = self.capture(
            ["inspect", "--format", "{{.Id}} {{.Image}} {{.State.Running}}", *ids]
        )
        states = []
        for line in inspected.stdout.splitlines():
            words = line.split()
            if len(words) == 3:
                container, image, running = words
                states.append(ContainerState(container, full_id(image), running == "true"))
        return states

    def remove_container(self, container: str) -> bool:
        """Removes a stopped container; whether it was removed (a running one is not)."""
        return self.capture(["rm", container]).returncode == 0
