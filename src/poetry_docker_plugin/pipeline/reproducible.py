"""Bit-identical images: the time they carry, taken from the inputs, and how each engine is
made to write it.

The epoch (``SOURCE_DATE_EPOCH``, as reproducible-builds.org names it) is, in this order:

1. ``SOURCE_DATE_EPOCH`` from the environment, when it holds a number: the convention every
   reproducible build tool follows, so that CI can give one value to all of them;
2. the committer time of the project's last git commit (``git log -1 --format=%ct``): the
   same in every clone of that commit, a shallow one included, and the time a reader expects
   the image to be "from"; uncommitted edits do not move it;
3. else 1980-01-01T00:00:00Z (315532800), the earliest time a zip file (so a wheel) can hold.

Never a file's time: a checkout sets those to the clock, so two clones would differ. The
epoch is a build option of the fingerprint, so an image of another epoch is rebuilt (every
step cached). It never enters the Dockerfile's steps: the steps that write ``.pyc`` files get a
fixed ``SOURCE_DATE_EPOCH`` (``render.PYC_EPOCH``), which makes Python write hash-based files
that hold no time at all, so that a new commit keeps every layer cached.

How each engine writes it (``engine_build``): podman and buildah build with ``--timestamp``;
Docker with BuildKit 0.8 (engine 20.10) gets the normalisation of ``image_archive`` after the
build (``docker save``, rewritten, ``docker load``).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from poetry_docker_plugin.engine.client import Engine

ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z
# Docker Engine 26 embeds BuildKit 0.13, the first with ``rewrite-timestamp``.
REWRITE_TIMESTAMP_ENGINE = 26


@dataclass(frozen=True)
class Epoch:
    """The time the image carries, and where it came from (said with -v)."""

    seconds: int
    source: str


def source_epoch(root: Path, environ: Mapping[str, str] | None = None) -> Epoch:
    """The epoch of the project at ``root`` (see the module's docstring for the order)."""
    environ = os.environ if environ is None else environ
    given = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if given.isdigit():
        return Epoch(int(given), "SOURCE_DATE_EPOCH")
    committed = last_commit_time(root)
    if committed is not None:
        return Epoch(committed, "the last git commit")
    return Epoch(ZIP_EPOCH, "no git commit: 1980-01-01")


def last_commit_time(root: Path) -> int | None:
    """The committer time of HEAD of the git work tree holding ``root``; None without one."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = result.stdout.strip()
    return int(text) if result.returncode == 0 and text.isdigit() else None


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
    """The id of ``image_id`` made bit-identical (``image_archive``), loaded into the engine.

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
