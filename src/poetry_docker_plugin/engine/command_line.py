"""The engine's client as a process: running it with its output captured, echoing its command
lines (poetry -vv), and telling why it failed (a daemon that is down, a client without buildx).

What is asked of images and containers is images.py's and containers.py's; builds and pushes
are client.py's ``Engine``, which has all of them.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ENGINE_VARIABLE = "POETRY_DOCKER_ENGINE"


@dataclass(frozen=True)
class EngineCommandLine:
    """A container engine's command-line client (docker, or podman), and nothing of the
    domain."""

    executable: str
    echo: bool = False  # print each command line to stderr (poetry -vv)

    def show(self, arguments: Sequence[str]) -> None:
        if self.echo:
            words = [self.executable, *arguments]
            line = subprocess.list2cmdline(words) if os.name == "nt" else shlex.join(words)
            print(f"$ {line}", file=sys.stderr, flush=True)

    def capture(
        self, arguments: list[str], *, shown: Sequence[str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Runs the client with ``arguments``, its output captured as text.

        ``shown``: the words echoed instead of ``arguments`` (a long script named, not
        printed whole).
        """
        self.show(arguments if shown is None else shown)
        return subprocess.run(
            [self.executable, *arguments], capture_output=True, text=True, check=False
        )

    def start_capture(self, arguments: list[str]) -> Callable[[], tuple[int, str]]:
        """``capture``, started now: the call returned answers its exit status and output
        (once, kept), so that the caller works while the engine answers."""
        import functools

        self.show(arguments)
        process = subprocess.Popen(
            [self.executable, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

        @functools.cache
        def answer() -> tuple[int, str]:
            stdout, _ = process.communicate()
            return process.returncode, stdout

        return answer

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

    def is_podman(self) -> bool:
        """Whether the client is podman: by its name, or ``docker`` being podman's docker shim
        (its ``version`` says Podman). Asked only when something failed, never up front."""
        return self.named_podman or "podman" in self.capture(["version"]).stdout.lower()

    @property
    def named_podman(self) -> bool:
        """Whether the client's own name says podman (no process asked)."""
        return "podman" in Path(self.executable).name
