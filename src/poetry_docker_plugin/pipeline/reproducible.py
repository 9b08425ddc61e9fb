"""Bit-identical images: how each engine is made to write the time they carry.

The epoch is read from the inputs (``freshness/epoch.py``). How each engine writes it
(``image_build``): podman and buildah build with ``--timestamp``; Docker with BuildKit 0.8
(engine 20.10) gets the normalisation of ``reproducible_archive`` after the build (``docker
save``, rewritten, ``docker load``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from poetry_docker_plugin.engine.client import Engine

# Docker Engine 26 embeds BuildKit 0.13, the first with ``rewrite-timestamp``.
REWRITE_TIMESTAMP_ENGINE = 26


@dataclass(frozen=True)
class EngineWay:
    """What the engine is given to write the epoch, and whether its image needs
    ``normalise_image`` after."""

    build_args: tuple[tuple[str, str], ...] = ()
    timestamp: int | None = None  # buildah's --timestamp
    outputs: tuple[str, ...] = ()  # docker build --output
    normalise: bool = False


def engine_way(engine: Engine, epoch: int) -> EngineWay:
    """How ``engine`` makes an image of ``epoch`` (one question to the engine, asked only for
    reproducible builds).

    podman, buildah: ``--timestamp`` sets the image's times and every file's in its new layers.
    Docker from 26 (BuildKit 0.13): the ``SOURCE_DATE_EPOCH`` build argument sets the image's
    times, and ``rewrite-timestamp`` clamps the files' (unverified: no such engine here).
    Older Docker (20.10 here): the build argument (ignored by BuildKit 0.8), then the
    normalisation of the saved image.
    """
    if engine.is_podman():
        return EngineWay(timestamp=epoch)
    argument = (("SOURCE_DATE_EPOCH", str(epoch)),)
    said = engine.capture(["version", "--format", "{{.Server.Version}}"]).stdout.strip()
    major = said.split(".")[0]
    if major.isdigit() and int(major) >= REWRITE_TIMESTAMP_ENGINE:
        return EngineWay(argument, outputs=("type=docker,rewrite-timestamp=true",))
    return EngineWay(argument, normalise=True)


def normalise_image(
    engine: Engine,
    image_id: str,
    bases: Sequence[str],
    epoch: int,
    say: Callable[[str], None],
) -> str:
    """The id of ``image_id`` made bit-identical (``reproducible_archive``), loaded into the engine.

    The layers of ``bases`` (the images the stages start from) pass through unchanged. The
    image as built is removed after (untagged, it would only take space: the build cache is
    kept apart from it); tags are moved to the returned id only (``tagging``).
    """
    from poetry_docker_plugin.engine.archive import layer_ids, loading, save
    from poetry_docker_plugin.pipeline.reproducible_archive import normalise_saved, write_archive
    from poetry_docker_plugin.util.oserrors import explained
    from poetry_docker_plugin.util.tempdirs import temp_dir

    keep = frozenset(layer for base in bases for layer in layer_ids(engine, base))
    say(f"Normalising {image_id[:19]} (times clamped to {epoch})")
    with temp_dir("normalise", "the saved image") as scratch:
        saved = scratch / "saved.tar"
        step = "save the built image and rewrite its layers (--reproducible)"
        with explained(step, scratch, "Nothing was tagged."):
            save(engine, image_id, saved)
            files = normalise_saved(saved, keep, epoch, Path(tempfile.mkdtemp(dir=scratch)))
        with (
            explained("send the rewritten image to `docker load`", scratch, "Nothing was tagged."),
            loading(engine) as (stream, loaded),
        ):
            write_archive(files, stream)
    if loaded[0] != image_id:
        engine.capture(["image", "rm", image_id])  # refused when tagged since: then kept
    return loaded[0]
