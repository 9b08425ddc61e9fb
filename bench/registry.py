"""A registry of the benchmark's own on 127.0.0.1, and the bytes each push sends it.

Debian's ``docker-registry`` (the distribution registry 2.8) with its own storage folder, as
tests/conftest.py's ``registry`` fixture starts one; dockerd pushes to 127.0.0.0/8 without TLS.
What a push sends is what the registry stores: blobs are kept compressed, once, so ``du -sb``
of the storage folder before and after a push counts the new layers, config and manifest that
the push sent, and nothing for the layers that the registry already had (design.md).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class LocalRegistry:
    """A running registry: where it answers and where it keeps what it receives."""

    host: str  # 127.0.0.1:PORT
    storage: Path

    def reference(self, name: str) -> str:
        return f"{self.host}/{name}"

    def stored(self) -> int:
        """Bytes in the storage folder, as ``du -sb`` counts them (0 before the first push)."""
        if not self.storage.exists():
            return 0
        du = subprocess.run(
            ["du", "-sb", str(self.storage)], capture_output=True, text=True, check=True
        )
        return int(du.stdout.split()[0])

    def received(self, push: Callable[[], T]) -> tuple[T, int]:
        """What ``push`` returns, and the bytes the registry received while it ran."""
        before = self.stored()
        result = push()
        return result, self.stored() - before


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def local_registry(folder: Path, timeout: float = 60) -> Iterator[LocalRegistry]:
    """A registry started empty in ``folder`` (emptied first), stopped and emptied at the end."""
    program = shutil.which("docker-registry")
    if program is None:
        raise SystemExit(
            "docker-registry is not installed (Debian: apt-get install docker-registry): "
            "the bytes-pushed rows need it; `bash scripts/dev bench` installs it."
        )
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    port = free_port()
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {folder / 'storage'}}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    log = folder / "registry.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [program, "serve", str(config)], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + timeout
        while not answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"docker-registry did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield LocalRegistry(f"127.0.0.1:{port}", folder / "storage")
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def answers(port: int) -> bool:
    """Whether the registry's API answers yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False
