"""``poetry docker lock``: writes poetry-docker.lock, the conda packages and base images.

Thin, as Poetry's ``lock`` command is: the plan of each platform comes from the builder
(without the conda lock, which is what is being made), the solve from ``pipeline/conda_solve``, and
the file's form from ``lock.conda``. Like ``poetry lock``, a current lock is kept as it is
and a stale one is solved again keeping what still fits; ``--update`` (``poetry update``'s
role) solves anew; ``--check`` (``poetry check --lock``) only says whether it is current.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from cleo.helpers import option

from poetry_docker_plugin.commands.base import DockerCommand
from poetry_docker_plugin.commands.options import (
    RUNTIME_GROUPS,
    platform_option,
    selection_options,
)
from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from cleo.io.inputs.option import Option

    from poetry_docker_plugin.platforms import Platform


class LockCommand(DockerCommand):
    name = "docker lock"
    description = "Locks the conda packages and base images of the project's image."
    options: ClassVar[list[Option]] = [
        *selection_options(
            RUNTIME_GROUPS,
            "The network of the container that solves the conda packages (e.g. host, for a "
            "channel on this machine).",
        ),
        platform_option(
            "The platforms to lock, comma-separated (default: the platforms setting, else the "
            "engine's own)."
        ),
        option("update", None, "Solve anew and read the base images' digests again."),
        option("check", None, "Only say whether poetry-docker.lock is current (exit 1 if not)."),
    ]
    help = """Writes <comment>poetry-docker.lock</comment> beside poetry.lock: every conda package
of the environment (python, pip, conda-packages) with its URL and hash, for each platform, and
the digest of each base image. Builds then install exactly those packages on those images."""

    def target_platforms(self) -> tuple[Platform, ...]:
        """--platform, else the `platforms` setting, else (empty) the engine's own."""
        return self.requested_platforms or self.settings.platforms

    def unchanged_when_interrupted(self) -> tuple[str, ...]:
        return ("poetry-docker.lock was not changed (it is written whole, at the end)",)

    def handle_docker(self) -> int:
        from poetry_docker_plugin.conda_lock.file import CONDA_LOCK_FILE, conda_lock_text
        from poetry_docker_plugin.pipeline.conda_solve import lock_project
        from poetry_docker_plugin.plan.pinning import lock_inputs
        from poetry_docker_plugin.project.credentials import build_secrets
        from poetry_docker_plugin.project.settings import ca_bundle_path
        from poetry_docker_plugin.util.output_files import write_atomically

        builders = [self.builder_for(p) for p in self.target_platforms() or (None,)]
        plans = [builder.plan(locked=False) for builder in builders]
        first = builders[0]
        existing, path = first.conda_lock, first.root / CONDA_LOCK_FILE
        if self.option("check"):
            wanted = lock_inputs(plans[0], tuple(str(p.environment.platform) for p in plans))
            changes = existing.inputs.changes(wanted) if existing else ["there is none"]
            if changes:
                raise DockerPluginError(
                    f"{CONDA_LOCK_FILE} is not current: {'; '.join(changes)}. Run `poetry "
                    "docker lock` to update it."
                )
            self.line_error(f"{CONDA_LOCK_FILE} is current.")
            return 0
        environment = plans[0].environment
        ca_bundle = ca_bundle_path(self.settings, self.project)
        with build_secrets(self.poetry, (), ca_bundle, environment.credentialed_channels) as s:
            lock = lock_project(
                first.engine,
                plans,
                existing,
                update=bool(self.option("update")),
                secrets=s,
                network=self.option("network"),
            )
        if lock is None:
            self.line_error(f"{CONDA_LOCK_FILE} is already up to date: nothing was changed.")
            return 0
        text = conda_lock_text(lock)
        if existing is not None and conda_lock_text(existing) == text:
            self.line_error(f"{CONDA_LOCK_FILE} is already up to date: nothing was changed.")
            return 0
        write_atomically("poetry-docker.lock", path, text.encode())
        count = len(lock.packages)
        self.line_error(
            f"Wrote {path}: {count} conda package{'s' if count != 1 else ''} and "
            f"{len(lock.bases)} base image digest{'s' if len(lock.bases) != 1 else ''}."
        )
        return 0
