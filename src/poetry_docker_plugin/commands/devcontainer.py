"""``poetry docker devcontainer``: the development image of ``shell``, for VS Code and the Dev
Containers CLI (``.devcontainer/devcontainer.json``; the document itself is devcontainer.py's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from cleo.helpers import option

from poetry_docker_plugin.commands.base import DockerCommand
from poetry_docker_plugin.commands.options import (
    DEVELOPMENT_GROUPS,
    NO_CACHE_HELP,
    ONE_PLATFORM,
    image_options,
    platform_option,
    selection_options,
)
from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from pathlib import Path

    from cleo.io.inputs.option import Option

    from poetry_docker_plugin.devcontainer.document import DevContainer
    from poetry_docker_plugin.plan.model import BuildPlan

# The labels the Dev Containers CLI (and VS Code) put on the containers it creates.
FOLDER_LABEL = "devcontainer.local_folder"
CONFIG_LABEL = "devcontainer.config_file"


class DevcontainerCommand(DockerCommand):
    name = "docker devcontainer"
    description = "Writes .devcontainer/devcontainer.json: the development image, for editors."
    options: ClassVar[list[Option]] = [
        *selection_options(
            DEVELOPMENT_GROUPS,
            "The network of the development image's build steps (e.g. host).",
        ),
        platform_option(ONE_PLATFORM),
        *image_options(),
        option(
            "env",
            "e",
            "Set a variable in the container, KEY=VALUE, or KEY for the host's value "
            "(containerEnv); repeatable.",
            flag=False,
            multiple=True,
        ),
        option(
            "publish",
            "p",
            "Publish a port, as with docker run -p (replaces the ports setting).",
            flag=False,
            multiple=True,
        ),
        option("gpus", None, "GPUs to add, as docker run --gpus (e.g. all).", flag=False),
        option("check", None, "Write nothing; fail when the file is not what would be written."),
        option("force", None, "Overwrite a devcontainer.json that was edited or not generated."),
        option(
            "prepare-image",
            None,
            "Build or refresh the development image only (the file's initializeCommand).",
        ),
    ]
    help = (
        """Writes .devcontainer/devcontainer.json for VS Code's Dev Containers extension and
the devcontainer CLI: the container is the development image of `poetry docker shell` (the
project's environment, its non-optional groups, the project editable from the working tree
mounted at the image's workdir, your uid and gid on Linux). Before the editor starts the
container, the file's initializeCommand runs `poetry docker devcontainer --prepare-image`
with the options given here, which builds the image when the lock, settings or options
changed, so it never goes stale. The file is sorted JSON without comments: regenerating an
unchanged project gives the same bytes, and --check (for CI) fails when the file differs from
what would be written. A file the plugin did not write, or one edited by hand since, is only
replaced with --force.

"""
        + NO_CACHE_HELP
    )
    development = True

    def unchanged_when_interrupted(self) -> tuple[str, ...]:
        if self.option("prepare-image"):
            return ()
        return (".devcontainer/devcontainer.json was not changed (it is written whole)",)

    def handle_docker(self) -> int:
        from poetry_docker_plugin.devcontainer.document import CONFIG_PATH
        from poetry_docker_plugin.util.output_files import refuse_project_links

        target = self.project_root / CONFIG_PATH
        refuse_project_links("file", target, self.project_root)  # read, replaced, or checked
        if self.option("prepare-image"):
            return self.prepare_image(target)
        # Only the plan is needed: the engine is asked about local images, never pulls.
        plan = self.builder.prepare(pull=False).plan
        text = self.devcontainer(plan).text()
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if self.option("check"):
            return self.check_file(target, current, text)
        return self.write_file(target, current, text)

    @property
    def project_root(self) -> Path:
        return self.poetry.pyproject_path.parent.resolve()

    def devcontainer(self, plan: BuildPlan) -> DevContainer:
        """The file's values: the plan's, the options', and how to prepare the same image."""
        from poetry_docker_plugin.devcontainer.document import DevContainer, split_ports

        forwarded, published = split_ports(plan.runtime.ports)
        if self.option("publish"):  # -p replaces the setting's ports, as with `run`
            forwarded, published = (), tuple(self.option("publish"))
        return DevContainer(
            project=plan.project.name,
            image=plan.image,
            workdir=plan.runtime.workdir,
            python=f"{plan.environment.bin_dir}/python",
            options=self.option_words(),
            forward_ports=forwarded,
            app_ports=published,
            container_env=self.container_env(),
            gpus=self.option("gpus") or None,
        )

    def option_words(self) -> tuple[str, ...]:
        """The options of this call that the file depends on, as words of a command line, in
        the order they are declared (so the same call gives the same words). The
        initializeCommand repeats them, so that it prepares the image the file was written
        for, and can tell whether the file is still what this call would write."""
        words: list[str] = []
        for declared in self.options:
            if declared.name in ("check", "force", "prepare-image"):
                continue
            value = self.option(declared.name)
            if declared.is_flag():
                words += [f"--{declared.name}"] if value else []
            elif declared.is_list():
                for item in value:
                    words += [f"--{declared.name}", item]
            elif value is not None:
                words += [f"--{declared.name}", value]
        return tuple(words)

    def container_env(self) -> tuple[tuple[str, str], ...]:
        """``-e KEY=VALUE`` as given; ``-e KEY`` takes the host's value when the container is
        created, as ``docker run -e KEY`` does (``${localEnv:KEY}``)."""
        from poetry_docker_plugin.project.settings import ENV_KEY_RE

        pairs = []
        for item in self.option("env"):
            key, sep, value = item.partition("=")
            if not ENV_KEY_RE.fullmatch(key) or any(ord(c) < 32 for c in value):
                raise DockerPluginError(
                    f"Invalid value for option --env: {item!r} is not of the form KEY=VALUE or "
                    "KEY, with a name of letters, digits and '_'."
                )
            pairs.append((key, value if sep else f"${{localEnv:{key}}}"))
        return tuple(pairs)

    def check_file(self, target: Path, current: str | None, text: str) -> int:
        if current == text:
            self.line_error(f"{target} is up to date.")
            return 0
        what = "is missing" if current is None else "differs from what would be written now"
        written_with = recorded_options(current)
        hint = (
            f" It was written with `poetry docker devcontainer{written_with}`: give --check "
            "the same options."
            if written_with is not None and written_with != self.options_text()
            else ""
        )
        self.error(
            f"{target} {what} (the project's settings, the options or the plugin changed). "
            f"Run `poetry docker devcontainer{self.options_text()}` and commit the file.{hint}"
        )
        return 1

    def write_file(self, target: Path, current: str | None, text: str) -> int:
        from poetry_docker_plugin.devcontainer.document import file_state
        from poetry_docker_plugin.util.output_files import write_atomically

        if current == text:
            self.line_error(f"{target} is up to date.")
            return 0
        state = file_state(current)
        if state in ("edited", "foreign") and not self.option("force"):
            why = (
                "was edited by hand since `poetry docker devcontainer` wrote it"
                if state == "edited"
                else "was not written by `poetry docker devcontainer`"
            )
            raise DockerPluginError(
                f"{target} {why}, so it is left as it is. Move your changes into "
                "[tool.poetry-docker] or the command's options, or keep them in another "
                "configuration (.devcontainer/NAME/devcontainer.json); run again with --force "
                "to replace the file."
            )
        write_atomically("devcontainer.json", target, text.encode())
        self.line_error(f"Wrote {target}")
        return 0

    def prepare_image(self, target: Path) -> int:
        """The initializeCommand: the development image, up to date, before the editor starts
        its container; a container of an older image is removed when it is stopped (the next
        start creates one from the new image) and named when it runs."""
        self.refuse_remote_engine()
        prepared = self.builder.ensure_image(self.builder.prepare(), rebuild=False, no_build=False)
        plan = prepared.plan
        self.retire_old_containers(plan.image, target)
        written = target.read_text(encoding="utf-8") if target.is_file() else None
        if written is not None and written != self.devcontainer(plan).text():
            self.line_error(
                f"<warning>{target} is not what `poetry docker devcontainer` writes for the "
                "project now (its settings or the plugin changed): run it again, then rebuild "
                "the container.</warning>"
            )
        self.line(plan.image)
        return 0

    def retire_old_containers(self, image: str, config: Path) -> None:
        """Removes this folder's stopped dev containers of another image than ``image``.

        The Dev Containers CLI starts an existing container as it is, whatever its image; it
        finds it by these labels after the initializeCommand has run. A stopped one holds
        nothing of the user's (the working tree is mounted), so the next start gets a new
        container of the fresh image. A running one is in use: it is named, not touched.
        """
        import subprocess

        docker = self.engine.executable
        listed = subprocess.run(
            [
                docker, "ps", "--all", "--quiet", "--no-trunc",
                "--filter", f"label={FOLDER_LABEL}={self.project_root}",
                "--filter", f"label={CONFIG_LABEL}={config}",
            ],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        ids = listed.stdout.split()
        current = self.engine.image_id(image)
        if listed.returncode != 0 or not ids or current is None:
            return
        inspected = subprocess.run(
            [docker, "inspect", "--format", "{{.Id}} {{.Image}} {{.State.Running}}", *ids],
            capture_output=True,
            text=True,
            check=False,
        )
        for line in inspected.stdout.splitlines():
            container, container_image, running = line.split()
            if container_image == current:
                continue
            if running == "true":
                self.line_error(
                    f"<warning>The dev container {container[:12]} runs an older {image}: "
                    "rebuild it (VS Code: Dev Containers: Rebuild Container) to use the new "
                    "one.</warning>"
                )
                continue
            subprocess.run([docker, "rm", container], capture_output=True, check=False)
            self.line_error(f"Removed the stopped dev container {container[:12]} of an older image")

    def refuse_remote_engine(self) -> None:
        """As ``shell``: a remote engine cannot mount this machine's working tree."""
        host = self.engine.remote_host()
        if host is not None:
            raise DockerPluginError(
                f"The dev container mounts the working tree ({self.project_root}), but the "
                f"Docker engine is remote ({host}, from DOCKER_HOST or the current docker "
                "context): it cannot see this machine's files. Use an engine of this machine "
                "(unset DOCKER_HOST, or `docker context use default`)."
            )

    def options_text(self) -> str:
        """The options the file depends on, to repeat in a message."""
        import shlex

        return "".join(f" {shlex.quote(word)}" for word in self.option_words())

    def check_option_combinations(self) -> None:
        super().check_option_combinations()
        chosen = [name for name in ("check", "force", "prepare-image") if self.option(name)]
        if len(chosen) > 1:
            raise DockerPluginError(
                f"The options {' and '.join('--' + n for n in chosen)} cannot be combined: "
                "--check writes nothing, --force writes, --prepare-image builds the image "
                "only. Choose one."
            )


def recorded_options(text: str | None) -> str | None:
    """The options a generated file was written with (its initializeCommand's), as text."""
    import json
    import shlex

    from poetry_docker_plugin.devcontainer.document import PREPARE_COMMAND

    try:
        command = json.loads(text or "").get("initializeCommand")
    except (ValueError, AttributeError):
        return None
    prefix = list(PREPARE_COMMAND)
    if not isinstance(command, list) or command[: len(prefix)] != prefix:
        return None
    return "".join(f" {shlex.quote(str(word))}" for word in command[len(prefix) :])
