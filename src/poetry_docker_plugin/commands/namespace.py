"""``poetry docker`` alone (and ``poetry docker --help``): the sub-commands, one line each.

Cleo runs the longest registered name that the arguments spell, so a command named ``docker``
answers ``poetry docker`` and ``poetry docker --help`` while ``poetry docker build`` still runs
``docker build``. Without it, Poetry answered both with "The requested command does not exist
in the docker namespace" and exit 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from cleo.helpers import argument
from poetry.console.commands.command import Command

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cleo.io.inputs.argument import Argument


class DockerNamespaceCommand(Command):
    name = "docker"
    description = "Builds, runs and opens a shell in an image of the project, from poetry.lock."
    arguments: ClassVar[list[Argument]] = [
        argument("subcommand", "A sub-command (listed below).", optional=True)
    ]

    def __init__(self, subcommands: Sequence[Command]) -> None:
        super().__init__()
        self.subcommands = tuple(subcommands)
        self.help = f"The sub-commands:\n\n{self.listing()}\n\n" + (
            "Run <c1>poetry docker COMMAND --help</c1> for a sub-command's options."
        )

    def listing(self) -> str:
        """One line per sub-command: its name and its description."""
        width = max(len(command.name or "") for command in self.subcommands)
        return "\n".join(
            f"  <c1>poetry {command.name or '':<{width}}</c1>  {command.description}"
            for command in self.subcommands
        )

    def handle(self) -> int:
        unknown = self.argument("subcommand")
        if unknown:
            self.line_error(
                f"<error>`poetry docker {unknown}` is not a command. The sub-commands are:"
                f"</error>\n{self.listing()}"
            )
            return 1
        self.line(f"{self.description}\n\n{self.help}")
        return 0
