"""Running the commands measured: one environment for all, failures raised with their output,
wall-clock timing, and the few questions asked of the engine and of git."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from bench.config import DOCKER, DOCKERIZE_IMAGE, POETRY, ROOT, STAND_IN, WORK


def env() -> dict[str, str]:
    """One environment for every command: BuildKit with plain progress (parsed for CACHED),
    and Poetry's virtualenvs kept in the scratch directory rather than in the user's cache.

    Python may write byte-code: a plugin installed from its wheel (``poetry self add``) comes
    byte-compiled by pip, as Poetry's own modules do, while the editable install measured here
    would otherwise compile the plugin's modules on every call (about 40 ms) wherever
    PYTHONDONTWRITEBYTECODE is set, as it is on the development machines.
    """
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return {
        **environment,
        "POETRY_DOCKER_ENGINE": DOCKER,
        "DOCKER_BUILDKIT": "1",
        "BUILDKIT_PROGRESS": "plain",
        "POETRY_VIRTUALENVS_PATH": str(WORK / "virtualenvs"),
        "PATH": f"{POETRY.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DOCKERIZE_NAME": DOCKERIZE_IMAGE,
        "DOCKERIZE_BASE_IMAGE": STAND_IN,
    }


def sh(
    *args: str | Path, cwd: Path = ROOT, check: bool = True, extra: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs a command with its output captured (``extra``: more variables for this one); a
    failure raises with the output's tail."""
    environment = {**env(), **(extra or {})}
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise RuntimeError(f"`{' '.join(map(str, args))}` exited with {result.returncode}:\n{tail}")
    return result


def timed(*args: str | Path, cwd: Path = ROOT) -> tuple[float, str]:
    """Wall-clock seconds of one command (it must succeed), and its combined output."""
    start = time.perf_counter()
    result = sh(*args, cwd=cwd)
    return time.perf_counter() - start, result.stdout + result.stderr


def image_size(reference: str) -> float:
    """The image's size in bytes, every layer counted (its base's included)."""
    return float(sh(DOCKER, "image", "inspect", "--format", "{{.Size}}", reference).stdout)


def image_id(reference: str) -> str:
    """The image's id: what the clean-up removes once no tag names it."""
    return sh(DOCKER, "image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()


def image_exists(reference: str) -> bool:
    return sh(DOCKER, "image", "inspect", reference, check=False).returncode == 0


def commit() -> str:
    """The commit measured, and whether the working tree had uncommitted changes."""
    head = sh("git", "rev-parse", "--short=12", "HEAD", check=False).stdout.strip() or "unknown"
    dirty = sh("git", "status", "--porcelain", "--", "src", "bench", "examples", check=False)
    return head + (" with uncommitted changes" if dirty.stdout.strip() else "")


def commits_since(revision: str) -> int | None:
    """How many commits HEAD is past ``revision`` (None when git does not know it, e.g. in a
    shallow clone): how old a recorded table is."""
    counted = sh("git", "rev-list", "--count", f"{revision}..HEAD", check=False)
    return int(counted.stdout) if counted.returncode == 0 else None


def machine() -> str:
    """What the numbers were measured on: they only compare within one run."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory = next((line.split()[1] for line in meminfo if line.startswith("MemTotal")), "0")
    server = sh(DOCKER, "version", "--format", "{{.Server.Version}}", check=False).stdout.strip()
    client = sh(DOCKER, "version", "--format", "{{.Client.Version}}", check=False).stdout.strip()
    return (
        f"machine: {os.cpu_count()} CPUs (nproc), {int(memory) / 2**20:.1f} GiB memory, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"Docker engine {server} (client {DOCKER} {client})"
    )
