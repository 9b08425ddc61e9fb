"""The engine's command line (docker, or podman), and nothing of the domain.

The client is found through ``POETRY_DOCKER_ENGINE`` (a command name or path) or as ``docker``
on PATH. Builds run with BuildKit (``DOCKER_BUILDKIT=1``) for cache and bind mounts; podman
builds with buildah, whose cache the Dockerfile's ``: inputs=DIGEST`` no-ops serve.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_docker_plugin.engine.mounts import csv_fields
from poetry_docker_plugin.engine.remote import current_context, docker_config_dir, remote_host
from poetry_docker_plugin.errors import BuildFailed, DockerPluginError, PushFailed
from poetry_docker_plugin.util.oserrors import explained

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

ENGINE_VARIABLE = "POETRY_DOCKER_ENGINE"


# The last line of `docker push` (and podman's "Writing manifest"): the manifest's digest.
PUSHED_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


@dataclass(frozen=True)
class InspectedImage:
    """What ``docker image inspect`` says of one image."""

    id: str
    labels: dict[str, str]


@dataclass(frozen=True)
class ImageConfig:
    """What ``docker image inspect`` says of a base image."""

    id: str
    platform: str  # os/architecture[/variant], as the image's config gives them
    environment: dict[str, str]
    labels: dict[str, str]


@dataclass(frozen=True)
class PendingInspect:
    """A ``docker image inspect`` under way."""

    engine: Engine
    references: tuple[str, ...]
    process: subprocess.Popen[str]

    def result(self) -> list[InspectedImage] | None:
        """The id and labels of each image, in order; None when any is missing."""
        stdout, _ = self.process.communicate()
        if self.process.returncode != 0:
            self.engine.diagnose()
            return None
        images = []
        for line in stdout.splitlines():
            if line.strip():
                identity, _, labels = line.partition(" ")
                images.append(InspectedImage(full_id(identity), json.loads(labels) or {}))
        return images

    def cancel(self) -> None:
        self.process.kill()
        self.process.communicate()


@dataclass(frozen=True)
class Engine:
    """A container engine's command-line client."""

    executable: str
    echo: bool = False  # print each command line to stderr (poetry -vv)

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

    def diagnose(self, *, building: bool = False) -> None:
        """Raises the clear error for an engine that is down, or a client that cannot build."""
        result = self.capture(["version", "--format", "{{.Server.Version}}"])
        if result.returncode != 0 or not result.stdout.strip():
            detail = (result.stderr.strip().splitlines() or ["no answer"])[-1]
            if "permission denied" in detail.lower():
                raise DockerPluginError(
                    f"Your user may not use the Docker engine through {self.executable} "
                    f"({detail}). Add yourself to the docker group (`sudo usermod -aG docker "
                    '"$USER"`, then log in again), or use rootless Docker or podman.'
                )
            raise DockerPluginError(
                f"The Docker engine is not reachable through {self.executable} ({detail}). "
                "Start the Docker daemon (for example `sudo systemctl start docker`), or point "
                "DOCKER_HOST at a running one, then try again."
            )
        if not building:
            return
        # A docker client of 23 or later needs the buildx component for BuildKit builds.
        client = self.capture(["version", "--format", "{{.Client.Version}}"]).stdout.strip()
        major = client.split(".")[0]
        if (
            major.isdigit()
            and int(major) >= 23
            and "docker" in Path(self.executable).name
            and self.capture(["buildx", "version"]).returncode != 0
        ):
            raise DockerPluginError(
                f"The docker client {self.executable} ({client}) has no buildx "
                "component, which its BuildKit builds need. Install buildx (Debian: "
                f"docker-buildx), or set {ENGINE_VARIABLE} to a client with BuildKit built "
                "in, such as /usr/bin/docker from Debian's docker.io."
            )

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

    def tag(self, image_id: str, reference: str) -> None:
        """Points the tag ``reference`` at the image ``image_id``."""
        result = self.capture(["tag", image_id, reference])
        if result.returncode != 0:
            self.diagnose()
            raise DockerPluginError(
                f"Could not tag the image {image_id} as {reference}: "
                f"{result.stderr.strip() or 'no output'}."
            )

    def is_podman(self) -> bool:
        """Whether the client is podman: by its name, or ``docker`` being podman's docker shim
        (its ``version`` says Podman). Asked only when something failed, never up front."""
        return self.named_podman or "podman" in self.capture(["version"]).stdout.lower()

    @property
    def named_podman(self) -> bool:
        """Whether the client's own name says podman (no process asked)."""
        return "podman" in Path(self.executable).name

    def inspect(self, *references: str) -> list[InspectedImage] | None:
        """The id and labels of local images, one per reference; None when any is missing."""
        return self.start_inspect(*references).result()

    def start_inspect(self, *references: str) -> PendingInspect:
        """``inspect``, started now and answered by ``result()``, so that the caller can work
        meanwhile."""
        arguments = ["image", "inspect", "--format", "{{.Id}} {{json .Config.Labels}}"]
        self.show([*arguments, *references])
        process = subprocess.Popen(
            [self.executable, *arguments, *references],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return PendingInspect(self, references, process)

    def read_file(self, image: str, path: str) -> bytes | None:
        """The content of one file of an image; None when the image has no such file.

        Read from a container that is created and never started (``cp`` takes a tar stream
        from it), so the image needs no shell or ``cat``; the container is removed after.
        """
        import tarfile

        created = self.capture(["create", image])
        if created.returncode != 0:
            self.diagnose()
            raise DockerPluginError(
                f"Could not create a container of {image} to read {path} from it: "
                f"{created.stderr.strip() or 'no output'}."
            )
        container = created.stdout.strip()
        try:
            self.show(["cp", f"{container}:{path}", "-"])
            copied = subprocess.run(
                [self.executable, "cp", f"{container}:{path}", "-"],
                capture_output=True,
                check=False,
            )
        finally:
            self.capture(["rm", "--force", container])
        if copied.returncode != 0:
            return None
        with tarfile.open(fileobj=io.BytesIO(copied.stdout)) as archive:
            member = archive.next()
            stream = archive.extractfile(member) if member is not None else None
            return stream.read() if stream is not None else None

    def image_id(self, reference: str) -> str | None:
        """The id of a local image; None when there is none of that name."""
        config = self.config_of(reference)
        return config.id if config else None

    def config_of(self, reference: str) -> ImageConfig | None:
        """A local image's id, platform, environment variables and labels; None when missing.
        Read from the whole inspect document: a format naming ``.Variant`` fails on Docker 20.10.
        """
        result = self.capture(["image", "inspect", "--format", "{{json .}}", reference])
        if result.returncode != 0:
            return None
        image = json.loads(result.stdout)
        if isinstance(image, list):  # podman 4 writes the whole list whatever the format
            image = image[0] if image else {}
        config = image.get("Config") or {}
        parts = (image.get("Os", ""), image.get("Architecture", ""), image.get("Variant", ""))
        pairs = (item.partition("=") for item in config.get("Env") or [])
        return ImageConfig(
            full_id(image.get("Id", "")),
            "/".join(part for part in parts if part),
            {key: value for key, _, value in pairs},
            config.get("Labels") or {},
        )

    def show(self, arguments: Sequence[str]) -> None:
        if self.echo:
            words = [self.executable, *arguments]
            line = subprocess.list2cmdline(words) if os.name == "nt" else shlex.join(words)
            print(f"$ {line}", file=sys.stderr, flush=True)

    def capture(self, arguments: list[str]) -> subprocess.CompletedProcess[str]:
        self.show(arguments)
        return subprocess.run(
            [self.executable, *arguments], capture_output=True, text=True, check=False
        )


def full_id(identity: str) -> str:
    """An image id as docker spells it (``sha256:<hex>``): podman's ``--iidfile`` and
    ``inspect`` give the bare hex, and ids are compared across both."""
    bare = re.fullmatch(r"[0-9a-f]{64}", identity)
    return f"sha256:{identity}" if bare else identity
