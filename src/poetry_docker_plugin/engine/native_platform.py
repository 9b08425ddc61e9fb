"""What the engine says of itself: the platform it runs containers on."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from collections.abc import Callable

    from poetry_docker_plugin.engine.client import Engine
    from poetry_docker_plugin.platforms import Platform

DOCKER_WAY = ["version", "--format", "{{.Server.Os}}/{{.Server.Arch}}"]
# Podman's ``version`` has no server when it is local; its ``info`` always answers.
PODMAN_WAY = ["info", "--format", "{{.Host.OS}}/{{.Host.Arch}}"]


def start_server_platform(engine: Engine) -> Callable[[], str]:
    """The engine's own OS/architecture (``linux/amd64``), asked now, answered when called.

    The server's, not this machine's: through a remote engine (``DOCKER_HOST=ssh://...``) they
    differ. Started early so that the plan's other work overlaps the round trip.
    """
    arguments = PODMAN_WAY if engine.named_podman else DOCKER_WAY
    engine.show(arguments)
    process = subprocess.Popen(
        [engine.executable, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def answer() -> str:
        stdout, _ = process.communicate()
        if process.returncode == 0 and stdout.strip().strip("/"):
            return stdout.strip()
        engine.diagnose()  # an engine that is down says so here
        result = engine.capture(PODMAN_WAY)  # podman behind the name ``docker``
        if result.returncode != 0 or not result.stdout.strip().strip("/"):
            raise DockerPluginError(
                f"The engine behind {engine.executable} did not say which platform it runs "
                f"({result.stderr.strip() or 'no answer'}). Give the target with --platform."
            )
        return result.stdout.strip()

    return answer


def platform_answered(pending: Callable[[], str] | None, *, required: bool) -> Platform:
    """The engine's answer as a platform; this machine's when the engine could not be asked
    and an answer is not ``required`` (only files are written)."""
    from poetry_docker_plugin.platforms import Platform, host_platform

    if pending is None:
        return host_platform()
    try:
        said = pending()
    except DockerPluginError:
        if required:
            raise
        return host_platform()
    found = Platform.of_image(said)
    if found is None:
        raise DockerPluginError(
            f"The engine runs {said} containers, a platform this plugin does not build for. "
            "Give a Linux target with --platform (for example linux/amd64)."
        )
    return found
