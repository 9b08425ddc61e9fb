"""What the engine says of itself: the platform it runs containers on, and its version (which
Dockerfile features its built-in frontend takes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from collections.abc import Callable

    from poetry_docker_plugin.engine.client import Engine
    from poetry_docker_plugin.platforms import Platform

DOCKER_WAY = ["version", "--format", "{{.Server.Os}}/{{.Server.Arch}} {{.Server.Version}}"]
# Podman's ``version`` has no server when it is local; its ``info`` always answers.
PODMAN_WAY = ["info", "--format", "{{.Host.OS}}/{{.Host.Arch}}"]


def start_server_platform(engine: Engine) -> Callable[[], str]:
    """The engine's own OS/architecture (``linux/amd64``), asked now, answered when called.

    The server's, not this machine's: through a remote engine (``DOCKER_HOST=ssh://...``) they
    differ. Started early so that the plan's other work overlaps the round trip.
    """
    arguments = PODMAN_WAY if engine.named_podman else DOCKER_WAY
    started = engine.start_capture(arguments)

    def answer() -> str:
        status, stdout = started()
        if status == 0 and stdout.strip().strip("/"):
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
    said = said.split()[0] if said.split() else said
    found = Platform.of_image(said)
    if found is None:
        raise DockerPluginError(
            f"The engine runs {said} containers, a platform this plugin does not build for. "
            "Give a Linux target with --platform (for example linux/amd64)."
        )
    return found


def version_answered(pending: Callable[[], str] | None) -> str:
    """The engine's server version from the same answer (``20.10.24``); empty when it was not
    asked, could not be, or did not say (podman's ``info`` does not)."""
    if pending is None:
        return ""
    try:
        words = pending().split()
    except DockerPluginError:
        return ""
    return words[1] if len(words) > 1 else ""
