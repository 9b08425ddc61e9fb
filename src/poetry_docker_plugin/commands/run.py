"""``poetry docker run``: the project's image, rebuilt only when an input changed."""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, ClassVar

from cleo.helpers import argument

from poetry_docker_plugin.commands.base import DockerCommand
from poetry_docker_plugin.commands.options import (
    NO_CACHE_HELP,
    ONE_PLATFORM,
    RUNTIME_GROUPS,
    container_options,
    image_options,
    platform_option,
    selection_options,
)
from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from cleo.io.inputs.argument import Argument
    from cleo.io.inputs.option import Option


class RunCommand(DockerCommand):
    name = "docker run"
    description = "Runs the project's image (building it first only when an input changed)."
    arguments: ClassVar[list[Argument]] = [
        argument("args", "The command and its arguments (after --).", optional=True, multiple=True)
    ]
    options: ClassVar[list[Option]] = [
        *selection_options(
            RUNTIME_GROUPS,
            "The network of the build's steps and of the container, as docker build and "
            "docker run --network (e.g. host).",
        ),
        platform_option(ONE_PLATFORM),
        *image_options(),
        *container_options(),
    ]
    help = (
        """Runs the image of the project with its entrypoint, so that the environment is active:
  <comment>poetry docker run</comment>                      the image's default command
  <comment>poetry docker run -- python -c "import numpy"</comment>  any other command

Stdin, signals and the exit code pass through; a TTY is used when stdin and stdout are
terminals. Ports and environment from [tool.poetry-docker] apply.

"""
        + NO_CACHE_HELP
    )

    def handle_docker(self) -> int:
        from poetry_docker_plugin.engine.client import Engine
        from poetry_docker_plugin.engine.run import run_container

        known = None if self.option("rebuild") else self.known_image()
        if known is not None:
            image, ports, project_name = known.image, known.ports, known.project_name
            engine = Engine.find(echo=self.io.is_very_verbose())
            self.say_emulation(image, known.emulation)
        else:
            plan = self.ensure_image().plan
            image, ports, project_name = plan.image, plan.runtime.ports, plan.project.name
            engine = self.engine
        options = self.run_options(image)
        if sys.stdin.isatty() and sys.stdout.isatty():
            options.append("--tty")
        if not self.option("publish"):  # -p replaces the setting's ports, as options do
            for port in ports:
                number = port.split("/")[0]
                options += ["--publish", f"{number}:{port}"]
        arguments = [*options, image, *self.argument("args")]
        return run_container(engine, arguments, self.container_name(project_name))

    def check_option_combinations(self) -> None:
        """``-v`` is Poetry's verbosity: ``-v /a:/b`` would run ``/a:/b`` as the command."""
        super().check_option_combinations()
        args = self.argument("args")
        if args and self.io.is_verbose() and re.match(r"[~./][^:\s]*:/", args[0]):
            raise DockerPluginError(
                f"{args[0]!r} looks like a volume, but -v is Poetry's verbosity flag, so it "
                f"would run as the command. Write --volume {args[0]} instead."
            )
