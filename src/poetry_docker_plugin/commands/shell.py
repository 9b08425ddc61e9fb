"""``poetry docker shell``: a shell in the development image, on the live working tree."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, ClassVar

from cleo.helpers import option

from poetry_docker_plugin.commands.base import DockerCommand
from poetry_docker_plugin.commands.options import (
    DEVELOPMENT_GROUPS,
    NO_CACHE_HELP,
    ONE_PLATFORM,
    container_options,
    image_options,
    platform_option,
    selection_options,
)
from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from pathlib import Path

    from cleo.io.inputs.option import Option

# bash when the image has it, else sh; "$@" carries an optional -c COMMAND.
SHELL_SCRIPT = 'if command -v bash >/dev/null 2>&1; then exec bash "$@"; else exec sh "$@"; fi'


class ShellCommand(DockerCommand):
    name = "docker shell"
    description = "Opens a shell in the development image, with the working tree mounted."
    options: ClassVar[list[Option]] = [
        *selection_options(
            DEVELOPMENT_GROUPS,
            "The network of the build's steps and of the container, as docker build and "
            "docker run --network (e.g. host).",
        ),
        platform_option(ONE_PLATFORM),
        *image_options(),
        *container_options(),
        option("command", "c", "Run this command in the shell and exit with its code.", flag=False),
        option(
            "read-only",
            None,
            "Mount the working tree read-only (code you did not write): nothing run in the "
            "container can change a file of the host.",
        ),
    ]
    help = (
        """Builds (when stale) the development image: the project's environment with its
development groups, and the project installed editable from the working tree, which is
mounted at the image's workdir. Edits on the host are seen at once, without a rebuild.
On Linux the shell runs as your uid and gid (the image has an account for them, with a
home), so files it creates belong to you; on macOS and Windows, where Docker Desktop maps
file ownership itself, it runs as the image's runtime user. To add a package, add it to a
group (poetry add --group dev NAME): the next shell rebuilds the image with it.

"""
        + NO_CACHE_HELP
    )
    development = True

    def handle_docker(self) -> int:
        self.refuse_remote_engine()
        prepared = self.ensure_image()
        plan = prepared.plan
        from poetry_docker_plugin.engine.run import run_container

        options = self.run_options(plan.image)
        workdir = plan.runtime.workdir
        read_only = bool(self.option("read-only"))
        options += [*tree_mounts(self.builder.root, workdir, read_only=read_only)]
        options += ["--workdir", workdir]
        command = self.option("command")
        if command is None and sys.stdin.isatty() and sys.stdout.isatty():
            options.append("--tty")
        shell = [
            "sh",
            "-c",
            SHELL_SCRIPT,
            "shell",
            *(["-c", command] if command is not None else []),
        ]
        return run_container(
            self.engine, [*options, plan.image, *shell], self.container_name(plan.project.name)
        )

    def refuse_remote_engine(self) -> None:
        """Refuses an engine on another machine, before anything is built there: it would
        bind-mount a directory of its own machine (an empty one, made for the purpose), not
        the working tree."""
        host = self.engine.remote_host()
        if host is None:
            return
        raise DockerPluginError(
            f"`poetry docker shell` mounts the working tree ({self.builder.root}) into its "
            "container, but "
            f"the Docker engine is remote ({host}, from DOCKER_HOST or the current docker "
            "context): it cannot see this machine's files and would mount an empty folder "
            "instead. Run the shell on an engine of this machine (unset DOCKER_HOST, or "
            "`docker context use default`), or use `poetry docker run`, which mounts nothing."
        )


def tree_mounts(root: Path, workdir: str, *, read_only: bool) -> list[str]:
    """The working tree at ``workdir``, with its ``.git`` always read-only: a line written
    into ``.git/config`` (``core.fsmonitor``, ``core.hooksPath``) or a hook from inside the
    container would run on the host at the next ``git status``. ``read_only``: the whole tree
    read-only. A ``.git`` that is a symbolic link is not mounted (its target is the host's)."""
    from poetry_docker_plugin.engine.mounts import bind_mount

    mounts = ["--mount", bind_mount(root, workdir, *(["readonly"] if read_only else []))]
    git = root / ".git"
    if not read_only and not git.is_symlink() and git.exists():
        mounts += ["--mount", bind_mount(git, f"{workdir}/.git", "readonly")]
    return mounts
