"""A saved image (``docker save``) made bit-identical: what Docker 20.10's BuildKit 0.8 cannot
do itself (it has no ``SOURCE_DATE_EPOCH`` and no ``rewrite-timestamp``), done to its output.

Every layer that the build made is written again with each entry's time clamped to the epoch
(``min(mtime, epoch)``: a file older than the epoch keeps its time), the PAX ``atime``,
``ctime`` and ``mtime`` records dropped (they carry the clock to the nanosecond), in the
engine's own entry order (a sorted walk of the layer's files, the same for the same files:
re-sorting would have to keep a hard link after its target, for nothing). The image's
``created`` and every history time after the epoch become the epoch, and each rewritten
layer's digest replaces its ``diff_id``, so that the config, whose digest is the image id, is a
function of the layers' content and the epoch alone.

Layers named in ``keep`` (the base images' own) are kept as they are: they are inputs, pinned
by id, and rewriting them would only stop the image sharing them with its base. They are not
even sent back: the archive's manifest names them, and ``docker load`` takes a layer it
already holds from its own store (the build ran on it), so the temporary folder holds the
saved image and one rewritten layer at a time, not a second copy of the base.

Everything streams: a layer is read entry by entry and written to a temporary file while its
digest is taken (images are hundreds of MB; nothing holds a layer in memory).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tarfile
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, cast

# Where BuildKit keeps the inline cache in an image config (BUILDKIT_INLINE_CACHE=1 builds).
INLINE_CACHE_KEY = "moby.buildkit.cache.v0"

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# PAX records that carry a time of the build's clock, dropped from every rewritten entry.
CLOCK_RECORDS = frozenset({"atime", "ctime", "mtime", "LIBARCHIVE.creationtime"})
CHUNK = 1 << 20
HOLE = 4096  # the smallest run of zeros left as a hole: a page of most file systems


@dataclass(frozen=True)
class Rewritten:
    """One layer written again: where, and the sha256 of its bytes (its new ``diff_id``)."""

    path: Path
    diff_id: str


class _Hashing:
    """A write-only file that hashes what passes through it on its way to ``target``; on a
    file, a block of zeros is skipped over (a hole) instead of written, so that a sparse
    file of the image (a 2 GiB one that holds nothing) takes no disk in the temporary folder.
    """

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.sparse = target.seekable()
        self.hole = 0  # zeros skipped at the end, written by ``close`` as the file's length

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        if self.sparse and len(data) >= HOLE and data.count(0) == len(data):
            self.target.seek(len(data), 1)
            self.hole = len(data)
            return len(data)
        self.hole = 0
        return self.target.write(data)

    def close(self) -> None:
        """The file's length, when it ends in a hole (seeking past the end writes nothing)."""
        if self.sparse and self.hole:
            self.target.truncate(self.target.tell())


def normalise_layer(source: IO[bytes], target: IO[bytes], epoch: int) -> str:
    """Writes the layer tar ``source`` to ``target`` with its times clamped; the sha256 of
    what was written, as ``sha256:<hex>``."""
    hashing = _Hashing(target)
    with (
        tarfile.open(fileobj=source, mode="r|", errors="surrogateescape") as reading,
        tarfile.open(
            fileobj=cast("IO[bytes]", hashing),  # write is all a stream needs
            mode="w|",
            format=tarfile.PAX_FORMAT,
            errors="surrogateescape",
        ) as writing,
    ):
        for member in reading:
            entry = _clamped(member, epoch)
            data = reading.extractfile(member) if member.isreg() else None
            writing.addfile(entry, data)
    hashing.close()
    return f"sha256:{hashing.digest.hexdigest()}"


def _clamped(member: tarfile.TarInfo, epoch: int) -> tarfile.TarInfo:
    entry = copy.copy(member)
    entry.mtime = min(int(member.mtime), epoch)
    entry.pax_headers = {k: v for k, v in member.pax_headers.items() if k not in CLOCK_RECORDS}
    # Hard links carry no data; tarfile reads their size from the header as written.
    if member.islnk():
        entry.size = 0
    return entry


def rfc3339(epoch: int) -> str:
    """The epoch as the image config writes times (``1980-01-01T00:00:00Z``)."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)")


def _seconds(text: str) -> int | None:
    """A config time (RFC 3339, nanoseconds at most) in seconds; None when unreadable."""
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    zone = "+00:00" if match.group(2) == "Z" else match.group(2)
    return int(datetime.fromisoformat(match.group(1) + zone).timestamp())


def _clamp_time(text: object, epoch: int) -> object:
    if not isinstance(text, str):
        return text
    seconds = _seconds(text)
    return rfc3339(epoch) if seconds is None or seconds > epoch else text


def normalise_config(config: dict[str, object], diff_ids: list[str], epoch: int) -> bytes:
    """The image config with the new layer digests and no time after the epoch; as the bytes
    whose sha256 is the image id (keys in the engine's order, no spaces).

    BuildKit's inline cache (``moby.buildkit.cache.v0``, written for ``--push``) is dropped: it
    names the layers as built, before this rewrite, with the clock's times, so it would make
    the pushed image differ between builds and point ``--cache-from`` at blobs that were never
    pushed.
    """
    config = {key: value for key, value in config.items() if key != INLINE_CACHE_KEY}
    config["created"] = rfc3339(epoch)
    history = config.get("history")
    if isinstance(history, list):
        config["history"] = [
            {**item, "created": _clamp_time(item.get("created"), epoch)}
            if isinstance(item, dict) and "created" in item
            else item
            for item in history
        ]
    rootfs = config.get("rootfs")
    config["rootfs"] = {**(rootfs if isinstance(rootfs, dict) else {}), "diff_ids": diff_ids}
    return json.dumps(config, separators=(",", ":")).encode()


def normalise_saved(
    saved: Path, keep: frozenset[str], epoch: int, scratch: Path
) -> Iterator[tuple[str, Path]]:
    """The files of the archive that ``docker load`` takes for the normalised image, as
    (name in the archive, file), written in ``scratch``: each layer, then the config and
    ``manifest.json`` (which names no tag: tags are moved by ``tagging``, to the new id).

    ``saved`` is the archive ``docker save`` wrote for one image. Layers are yielded as they are
    written, so that the caller can stream each into ``docker load`` and delete it.
    """
    with tarfile.open(saved, errors="surrogateescape") as archive:
        manifest = json.load(_member(archive, "manifest.json"))[0]
        config = json.load(_member(archive, manifest["Config"]))
        old_ids = list(config["rootfs"]["diff_ids"])
        diff_ids, names = [], []
        for index, (name, old_id) in enumerate(zip(manifest["Layers"], old_ids, strict=True)):
            if old_id in keep:  # the engine has it (the build ran on it): named, not sent
                diff_ids.append(old_id)
                names.append(f"{old_id.removeprefix('sha256:')}/layer.tar")
                continue
            path = scratch / f"layer-{index}.tar"
            with _member(archive, name) as source, path.open("wb") as target:
                diff_id = normalise_layer(source, target, epoch)
            diff_ids.append(diff_id)
            names.append(f"{diff_id.removeprefix('sha256:')}/layer.tar")
            yield names[-1], path
    config_bytes = normalise_config(config, diff_ids, epoch)
    config_name = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
    (scratch / "config.json").write_bytes(config_bytes)
    yield config_name, scratch / "config.json"
    entry = [{"Config": config_name, "RepoTags": None, "Layers": names}]
    (scratch / "manifest.json").write_text(json.dumps(entry, separators=(",", ":")))
    yield "manifest.json", scratch / "manifest.json"


def _member(archive: tarfile.TarFile, name: str) -> IO[bytes]:
    stream = archive.extractfile(name)
    if stream is None:
        raise ValueError(f"the saved image has no file {name}")
    return stream


def write_archive(files: Iterator[tuple[str, Path]], target: IO[bytes]) -> None:
    """Streams ``files`` into a tar on ``target`` (``docker load``'s stdin), each file
    deleted once written (a layer at a time on disk beside the saved image)."""
    with tarfile.open(fileobj=target, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        seen: set[str] = set()
        for name, path in files:
            if name in seen:  # the same layer twice (an image may repeat one): once is enough
                path.unlink()
                continue
            seen.add(name)
            info = tarfile.TarInfo(name)
            info.size = path.stat().st_size
            info.mode = 0o644
            with path.open("rb") as data:
                archive.addfile(info, data)
            path.unlink()
