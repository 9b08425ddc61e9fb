"""Whether an image is current, decided here alone, and the record that lets a call which
changes nothing answer without loading the project through Poetry.

An image is current when every tag names an image whose fingerprint label is the inputs'
digest, and each base image is still the one the plan was made from. The builder decides so
after planning; a later call with the same options first looks at the record the last one
left (``Shortcut``): when no file it was made from changed (sizes and times, as git's index
tells), the tags and bases it names are asked of the engine, and the same rule decides. Only
when that fails is the project loaded, the lock read and the plan made.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_docker_plugin.names import FINGERPRINT_LABEL
from poetry_docker_plugin.util.hashing import RACY_NS, tree_signature
from poetry_docker_plugin.util.json_cache import list_of_strings, read_json, write_json

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from poetry_docker_plugin.engine.client import InspectedImage

RECORDS = 4  # kept per project: a few sets of options


def stale_images(images: Sequence[InspectedImage], fingerprint: str) -> list[InspectedImage]:
    """The images that were not made from the inputs whose digest is ``fingerprint``."""
    return [image for image in images if image.labels.get(FINGERPRINT_LABEL) != fingerprint]


def bases_moved(found: Sequence[InspectedImage], ids: Sequence[str | None]) -> bool:
    """Whether a base image is not the one the plan looked at (rebuilt or pulled anew)."""
    return [image.id for image in found] != list(ids)


@dataclass(frozen=True)
class KnownImage:
    """What ``build`` and ``run`` need of an image that is current, without its plan."""

    tags: tuple[str, ...]
    fingerprint: str
    bases: tuple[tuple[str, str], ...]  # (reference, id) of each image the build starts from
    project_name: str
    ports: tuple[str, ...]
    # "linux/arm64 on linux/amd64" when the image runs emulated on its engine, else empty.
    emulation: str = ""

    @property
    def image(self) -> str:
        return self.tags[0]

    @property
    def references(self) -> tuple[str, ...]:
        """The tags, then the bases: one ``image inspect`` answers for all."""
        return (*self.tags, *(reference for reference, _ in self.bases))

    def is_current(self, found: Sequence[InspectedImage]) -> bool:
        """The one rule, for the images of ``references`` as the engine found them."""
        images, bases = found[: len(self.tags)], found[len(self.tags) :]
        ids = [identity for _, identity in self.bases]
        return not stale_images(images, self.fingerprint) and not bases_moved(bases, ids)


def package_stamp() -> str:
    """The plugin's own files (the whole package) by name, size and time: other code, other
    answers."""
    digest = hashlib.sha256()
    for folder, subfolders, files in os.walk(os.path.dirname(os.path.dirname(__file__))):  # noqa: PTH120
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(files):
            status = os.stat(os.path.join(folder, name))  # noqa: PTH116, PTH118
            digest.update(f"{folder}/{name}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def files_stamp(files: Iterable[str]) -> str | None:
    """A digest of each file's path, size and time; None when one is missing or too recent."""
    digest = hashlib.sha256()
    newest = time.time_ns() - RACY_NS
    for name in files:
        try:
            status = os.stat(name)  # noqa: PTH116
        except OSError:
            return None
        if status.st_mtime_ns > newest:
            return None
        digest.update(f"{name}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Shortcut:
    """Where a record of known images is kept for one project, and its reading and writing.

    Each record: the options key, the image, the folders whose listing the files came from
    (with their tree signatures) and the files (with a digest of their stamps).
    """

    path: Path

    def known_image(self, key: str) -> KnownImage | None:
        """The image recorded for ``key`` when no input of it changed since; else None.

        The record is checked as it is read: one of another shape (damaged, or another
        version's) answers nothing, and the next build records anew over it.
        """
        records = read_json(self.path)
        record = records.get(key) if isinstance(records, dict) else None
        if not isinstance(record, dict) or not list_of_strings(record.get("files")):
            return None
        image = _known_image(record.get("image"))
        trees = record.get("trees")
        if image is None or not isinstance(trees, list):
            return None
        if files_stamp(record["files"]) != record.get("stamps"):
            return None
        now = time.time_ns() - RACY_NS
        for tree in trees:
            if not (list_of_strings(tree) and len(tree) == 2):
                return None
            root, signature = tree
            if tree_signature(Path(root), now) != signature:
                return None
        return image

    def record(
        self, key: str, image: KnownImage, roots: Iterable[Path], files: Iterable[Path]
    ) -> None:
        """Keeps ``image`` as the answer for ``key`` while ``files`` and the listings of
        ``roots`` stay as they are now; nothing when one changed too recently to tell."""
        names = sorted({str(path) for path in files})
        stamps = files_stamp(names)
        now = time.time_ns() - RACY_NS
        trees = [(str(root), tree_signature(root, now)) for root in sorted(set(roots))]
        records = read_json(self.path)
        if not isinstance(records, dict):
            records = {}
        records.pop(key, None)
        if stamps is not None and all(signature for _, signature in trees):
            records[key] = {
                "image": asdict(image),
                "trees": trees,
                "files": names,
                "stamps": stamps,
            }
        for old in list(records)[:-RECORDS]:
            del records[old]
        write_json(self.path, records)


def _known_image(value: object) -> KnownImage | None:
    """The ``KnownImage`` a record holds, when it has exactly the shape this version writes."""
    if not isinstance(value, dict):
        return None
    tags, bases, ports = value.get("tags"), value.get("bases"), value.get("ports")
    fingerprint, name = value.get("fingerprint"), value.get("project_name")
    emulation = value.get("emulation", "")
    if not (isinstance(tags, list) and tags and list_of_strings(tags) and list_of_strings(ports)):
        return None
    if not isinstance(bases, list) or not isinstance(ports, list):
        return None
    if not (isinstance(fingerprint, str) and fingerprint and isinstance(name, str) and name):
        return None
    if not all(list_of_strings(base) and len(base) == 2 for base in bases):
        return None
    if not isinstance(emulation, str):
        return None
    return KnownImage(
        tags=tuple(tags),
        fingerprint=fingerprint,
        bases=tuple((reference, identity) for reference, identity in bases),
        project_name=name,
        ports=tuple(ports),
        emulation=emulation,
    )


def shortcut_of(cache_dir: Path, root: Path) -> Shortcut:
    """Where the known images of the project in ``root`` are recorded."""
    return Shortcut(cache_dir / "projects" / f"{path_key(root)}.known.json")


def path_key(root: Path) -> str:
    """A short name for a project directory, for the files the plugin keeps about it."""
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
