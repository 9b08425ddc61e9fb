"""The engine's command line (docker, or podman), and nothing of the domain.

The client is found through ``POETRY_DOCKER_ENGINE`` (a command name or path) or as ``docker``
on PATH. Builds run with BuildKit (``DOCKER_BUILDKIT=1``) for cache and bind mounts; podman
builds with buildah, whose cache the Dockerfile's ``: inputs=DIGEST`` no-ops serve.

``Engine`` finds the client, builds and pushes; what it asks of local images is images.py's,
of existing containers containers.py's, and running the client command_line.py's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from poetry_docker_plugin.engine.command_line import ENGINE_VARIABLE
from poetry_docker_plugin.engine.containers import ContainerCalls
from poetry_docker_plugin.engine.images import ImageCalls, full_id
from poetry_docker_plugin.engine.mounts import csv_fields
from poetry_docker_plugin.engine.remote import current_context, docker_config_dir, remote_host
from poetry_docker_plugin.errors import BuildFailed, DockerPluginError, PushFailed
from poetry_docker_plugin.util.oserrors import explained

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path


# The last line of `docker push` (and podman's "Writing manifest"): the manifest's digest.
PUSHED_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


@dataclass(frozen=True)
class Engine(ImageCalls, ContainerCalls):
    """A container engine's command-line client: found, building, pushing, and what it is
    asked of images (images.py) and containers (containers.py)."""

    @classmethod
    def find(cls, *, echo: bool = False) -> Engine:
        """The client named by POETRY_DOCKER_ENGINE, else ``docker`` on PATH.

        The daemon is not asked anything up front (that would cost every call a round trip):
        when a command fails, ``diagnose`` tells why.
        """
        name = os.environ.get(ENGINE_VARIABLE) or "docker"
        executable = shutil.which(name)
        if executable is None:
            raise DockerPluginError(
                f"The container engine command {name!r} was not found on PATH. Install Docker "
                f"(or podman), or set {ENGINE_VARIABLE} to the path of its command-line client."
            )
        return cls(executable, echo)

    def build(
        self,
        context: Path,
        tags: Sequence[str],
        labels: Mapping[str, str],
        *,
        no_cache: bool = False,
        platform: str | None = None,
        build_args: Sequence[tuple[str, str]] = (),
        secrets: Mapping[str, Path] | None = None,
        network: str | None = None,
        quiet: bool = False,
        ssh: Sequence[str] = (),
        cache_from: Sequence[str] = (),
        timestamp: int | None = None,
        outputs: Sequence[str] = (),
        on_output: Callable[[str], None] | None = None,
    ) -> str:
        """Builds ``context`` with the engine's progress streamed to the terminal; the image id.

        ``tags`` are given to the engine as they are; the builder passes none and moves its
        tags itself once it knows the id (``tagging``), so that no tag names another build's
        image.

        ``ssh`` names the dependencies fetched over SSH: the user's SSH agent is forwarded to
        the build (``--ssh default``), so that their keys authenticate without entering it.
        ``cache_from`` names images (in a registry) whose inline cache the build may reuse.
        ``timestamp``: buildah's ``--timestamp`` (podman); ``outputs``: ``--output`` values.
        ``on_output`` is given the end of the engine's output after a build that succeeded (a
        failed one raises ``BuildFailed`` with it).
        """
        from poetry_docker_plugin.util.tempdirs import temp_dir

        with temp_dir("iid", "the built image's id") as scratch:
            iidfile = scratch / "iid"
            command = ["build", "--file", str(context / "Dockerfile"), "--iidfile", str(iidfile)]
            for tag in tags:
                command += ["--tag", tag]
            for key, value in sorted(labels.items()):
                command += ["--label", f"{key}={value}"]
            for key, value in build_args:
                command += ["--build-arg", f"{key}={value}"]
            if no_cache:
                command.append("--no-cache")
            if platform:
                command += ["--platform", platform]
            for name, path in sorted((secrets or {}).items()):
                command += ["--secret", csv_fields(f"id={name}", f"src={path}")]
            if network:
                command += ["--network", network]
            if ssh:
                command += ["--ssh", "default"]
            for reference in cache_from:
                command += ["--cache-from", reference]
            if timestamp is not None:
                command += ["--timestamp", str(timestamp)]
            for output in outputs:
                command += ["--output", output]
            if quiet:
                command.append("--quiet")
            command.append(str(context))
            self.show(command)
            from poetry_docker_plugin.engine.build_output import run_build

            environment = {**os.environ, "DOCKER_BUILDKIT": "1"}
            returncode, output = run_build([self.executable, *command], environment, quiet=quiet)
            if returncode != 0:
                self.diagnose(building=True)
                raise BuildFailed(returncode, output=output)
            if on_output is not None:
                on_output(output)
            with explained("read the built image's id", iidfile):
                return full_id(iidfile.read_text().strip())

    def remote_host(self) -> str | None:
        """The engine's host when it is not this machine's (``tcp://``, ``ssh://``), else None.

        As the client decides: ``DOCKER_HOST`` first, then the context that ``DOCKER_CONTEXT``
        or the client's config names (podman: ``CONTAINER_HOST``). Asking the client about a
        context costs a process, so it is asked only when a context other than the default
        is chosen.
        """
        if self.named_podman:
            return remote_host(os.environ.get("CONTAINER_HOST"))
        if os.environ.get("DOCKER_HOST"):
            return remote_host(os.environ["DOCKER_HOST"])
        context = os.environ.get("DOCKER_CONTEXT") or current_context(docker_config_dir())
        if not context or context == "default":
            return None
        result = self.capture(
            ["context", "inspect", "--format", "{{.Endpoints.docker.Host}}", context]
        )
        return remote_host(result.stdout.strip()) if result.returncode == 0 else None

    def push(self, reference: str, *, quiet: bool = False) -> str:
        """Pushes one tag with the engine's own credentials (``docker login``); its digest.

        The engine's progress goes to stderr as it comes; a failure names the tag and the
        engine's reason.
        """
        command = ["push", reference]
        self.show(command)
        # One stream (the engine's error comes last), read to its end: no pipe fills up.
        with subprocess.Popen(
            [self.executable, *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            assert process.stdout is not None
            lines = []
            for line in process.stdout:
                lines.append(line)
                if not quiet:
                    sys.stderr.write(line)
                    sys.stderr.flush()
        digest = PUSHED_DIGEST.search("".join(lines))
        if process.returncode == 0 and digest:
            return digest.group(1)
        self.diagnose()
        reason = ([line.strip() for line in lines if line.strip()] or ["no answer"])[-1]
        raise PushFailed(reference, reason)
