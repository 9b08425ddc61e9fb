"""``poetry docker run``: placeholder until the run command lands."""

from __future__ import annotations

from poetry_docker_plugin.commands.base import DockerCommand


class RunCommand(DockerCommand):
    name = "docker run"
    description = "Runs the project's image."
