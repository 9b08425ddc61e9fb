"""``poetry docker shell``: placeholder until the run command lands."""

from __future__ import annotations

from poetry_docker_plugin.commands.base import DockerCommand


class ShellCommand(DockerCommand):
    name = "docker shell"
    description = "Opens a shell in the development image."
