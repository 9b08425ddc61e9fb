"""Registers the ``poetry docker`` commands.

Poetry imports every application plugin on each call, so this module imports nothing heavy:
each command class is imported by its factory, only when that command is run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from poetry.plugins.application_plugin import ApplicationPlugin

from poetry_docker_plugin.project.poetry_compat import command_for_this_poetry

if TYPE_CHECKING:
    from collections.abc import Callable

    from poetry.console.application import Application
    from poetry.console.commands.command import Command


def _build_command() -> Command:
    from poetry_docker_plugin.commands.build import BuildCommand

    return BuildCommand()


def _run_command() -> Command:
    from poetry_docker_plugin.commands.run import RunCommand

    return RunCommand()


def _shell_command() -> Command:
    from poetry_docker_plugin.commands.shell import ShellCommand

    return ShellCommand()


def _lock_command() -> Command:
    from poetry_docker_plugin.commands.lock import LockCommand

    return LockCommand()


def _devcontainer_command() -> Command:
    from poetry_docker_plugin.commands.devcontainer import DevcontainerCommand

    return DevcontainerCommand()


# Each sub-command's name and its factory, in the order `poetry docker` lists them.
SUBCOMMANDS: tuple[tuple[str, Callable[[], Command]], ...] = (
    ("docker build", _build_command),
    ("docker run", _run_command),
    ("docker shell", _shell_command),
    ("docker lock", _lock_command),
    ("docker devcontainer", _devcontainer_command),
)


def _namespace_command() -> Command:
    from poetry_docker_plugin.commands.namespace import DockerNamespaceCommand

    return DockerNamespaceCommand([factory() for _, factory in SUBCOMMANDS])


class DockerPlugin(ApplicationPlugin):
    """Adds ``docker build``, ``run``, ``shell``, ``lock`` and ``devcontainer`` to every
    Poetry project, and ``docker`` alone, which lists them."""

    def activate(self, application: Application) -> None:
        for name, factory in (*SUBCOMMANDS, ("docker", _namespace_command)):
            application.command_loader.register_factory(
                name, command_for_this_poetry(name, factory)
            )
