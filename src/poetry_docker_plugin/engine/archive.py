"""Images as archives: ``docker save`` to a file, ``docker load`` from a stream, and the layer
digests of an image. Nothing of the domain: what is done to the archive between is not here."""

from __future__ import annotations

import json
import re
import subprocess
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

from poetry_docker_plugin.engine.images import full_id
from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from poetry_docker_plugin.engine.client import Engine

# What ``docker load`` (and ``podman load``) prints for an archive that names no tag.
LOADED_ID = re.compile(r"Loaded image(?: ID)?:? (?:sha256:)?([0-9a-f]{64})")


def save(engine: Engine, image: str, target: Path) -> None:
    """Writes the engine's archive of ``image`` (``docker save``) to the file ``target``."""
    result = engine.capture(["save", "--output", str(target), image])
    if result.returncode != 0:
        engine.diagnose()
        raise DockerPluginError(
            f"Could not save the image {image} to normalise it: "
            f"{result.stderr.strip() or 'no output'}."
        )


def layer_ids(engine: Engine, image: str) -> tuple[str, ...]:
    """The ``diff_id`` of each layer of a local image, bottom first."""
    result = engine.capture(["image", "inspect", "--format", "{{json .RootFS.Layers}}", image])
    if result.returncode != 0:
        engine.diagnose()
        raise DockerPluginError(
            f"Could not read the layers of {image}: {result.stderr.strip() or 'no output'}."
        )
    return tuple(json.loads(result.stdout) or ())


@contextmanager
def loading(engine: Engine) -> Iterator[tuple[IO[bytes], list[str]]]:
    """``docker load`` reading from the stream given, and a list that holds the loaded
    image's id once the block ends (the stream is closed and the engine's answer read)."""
    command = ["load"]
    engine.show(command)
    process = subprocess.Popen(
        [engine.executable, *command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    loaded: list[str] = []
    try:
        yield process.stdin, loaded
    except BrokenPipeError:  # the engine's client stopped reading: its own words say why
        process.kill()
        _, stderr = process.communicate()
        engine.diagnose()
        said = stderr.decode(errors="replace").strip() or "it stopped without a word"
        raise DockerPluginError(
            f"`docker load` stopped while the normalised image was sent to it: {said}."
        ) from None
    except BaseException:
        process.kill()
        process.communicate()
        raise
    stdout, stderr = process.communicate()
    found = LOADED_ID.search(stdout.decode(errors="replace"))
    if process.returncode != 0 or found is None:
        engine.diagnose()
        said = (stderr or stdout).decode(errors="replace").strip() or "no output"
        raise DockerPluginError(f"Could not load the normalised image: {said}.")
    loaded.append(full_id(found.group(1)))
