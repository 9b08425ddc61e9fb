"""The project's cache: what the last calls learnt, so that a call that changes nothing costs
little. File digests keyed by ``stat``, file listings keyed by directory times, the rendered
files of recent plans, and the images the last call asked the engine about.

It is only a cache: a file that cannot be read, or holds anything but what this version
writes, is ignored (and rewritten); one that cannot be written leaves every answer as without
it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poetry_docker_plugin.util.hashing import (
    RACY_NS,
    digest_files,
    file_digest,
    tree_signature,
)
from poetry_docker_plugin.util.json_cache import (
    list_of_strings,
    read_json,
    remove_scratch,
    shaped,
    write_json,
)

if TYPE_CHECKING:
    from collections.abc import Callable


class ProjectCache:
    """The project's files as they were at the last call, keyed by what ``stat`` says.

    Listing a package through poetry-core and hashing its files costs seconds on a project of
    20,000 files, on every call; one that changes nothing should cost what changed. As git's
    index does, a file is read again only when its size or modification time differ, and the
    list is made again only when a directory, pyproject.toml or an ignore file changed. An
    entry is only recorded for what was last modified more than ``RACY_NS`` before, so that an
    edit in the same clock tick as the recording is never missed. It is only a cache: a file
    that cannot be read or written leaves every answer as without it.
    """

    VERSION = 1  # of the file's layout: a file of another layout is ignored, not misread
    RENDERINGS = 4  # kept per project: the image, the development image, and a few options

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "version": self.VERSION,
            "listings": {},
            "digests": {},
            "files": {},
            "rendered": {},
        }
        self.changed = False
        loaded = read_json(path)
        if isinstance(loaded, dict) and loaded.get("version") == self.VERSION:
            # Each entry is checked as it is read: one of another shape (a damaged or foreign
            # file) is dropped, and the file rewritten without it at the next save.
            for section, shape in SECTIONS.items():
                entries = loaded.get(section)
                if isinstance(entries, dict):
                    kept = {k: v for k, v in entries.items() if shape(v)}
                    self.data[section] = kept
                    self.changed = self.changed or len(kept) != len(entries)
            inspected = loaded.get("inspected")
            if list_of_strings(inspected) and inspected:
                self.data["inspected"] = inspected
        self.now = time.time_ns()

    def listing(self, root: Path, key: str, make: Callable[[], list[Path]]) -> list[Path]:
        """The cached list of files under ``root`` for ``key``, or ``make()``'s answer."""
        signature = tree_signature(root, self.now - RACY_NS)
        recorded = self.data["listings"].get(key)
        if (
            signature is not None
            and shaped(recorded, str, list)
            and recorded[0] == signature
            and all(isinstance(name, str) for name in recorded[1])
        ):
            return [Path(name) for name in recorded[1]]
        files = make()
        if signature is not None:
            self.data["listings"][key] = [signature, [f.as_posix() for f in files]]
            self.changed = True
        return files

    def files_digest(self, root: Path, sources: list[Path], key: str) -> str:
        """``digest_files`` of ``sources``, recorded under ``key``: the recorded one while
        every size and time is the same.

        Looking at each file's ``stat`` is all a call that changes nothing costs.
        """
        stamps = hashlib.sha256(str(root).encode())
        newest = 0
        # Plain strings and os.stat: on 20,000 files, pathlib's joins cost more than the stats.
        top = os.fspath(root)
        for source in map(os.fspath, sources):
            status = os.stat(os.path.join(top, source))  # noqa: PTH116, PTH118
            newest = max(newest, status.st_mtime_ns)
            stamps.update(f"{source}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
        recorded = self.data["files"].get(key)
        if shaped(recorded, str, str) and recorded[0] == stamps.hexdigest():
            return str(recorded[1])
        files = digest_files(root, sources, self.digest)
        if newest < self.now - RACY_NS:
            self.data["files"][key] = [stamps.hexdigest(), files]
            self.changed = True
        return files

    def digest(self, path: Path) -> bytes:
        """The sha256 of a file, read only when its size or time changed since recorded."""
        status = path.stat()
        stamp = [status.st_size, status.st_mtime_ns]
        recorded = self.data["digests"].get(str(path))
        if shaped(recorded, int, int, str) and recorded[:2] == stamp:
            with contextlib.suppress(ValueError):
                return bytes.fromhex(recorded[2])
        value = file_digest(path)
        if status.st_mtime_ns < self.now - RACY_NS:
            self.data["digests"][str(path)] = [*stamp, value.hex()]
            self.changed = True
        return value

    def kept_texts(self, key: str, size: int, make: Callable[[], list[str]]) -> list[str]:
        """The ``size`` texts made for ``key`` at an earlier call (the rendered files of a plan,
        under ``render_key``), or ``make()``'s. A few are kept, the latest last; an entry of
        another shape (another version's) is made again."""
        kept = self.data["rendered"].get(key)
        if isinstance(kept, list) and len(kept) == size and all(isinstance(t, str) for t in kept):
            return kept
        texts = make()
        renderings = self.data["rendered"]
        renderings.pop(key, None)
        renderings[key] = texts
        for old in list(renderings)[: -self.RENDERINGS]:
            del renderings[old]
        self.changed = True
        return texts

    def last_inspected(self) -> tuple[str, ...] | None:
        """The images the last call asked the engine about, to ask again ahead of the plan."""
        last = self.data.get("inspected")
        if isinstance(last, list) and last and all(isinstance(x, str) for x in last):
            return tuple(last)
        return None

    def record_inspected(self, references: tuple[str, ...]) -> None:
        if self.data.get("inspected") != list(references):
            self.data["inspected"] = list(references)
            self.changed = True

    def save(self) -> None:
        """Writes the cache when a call changed it, first dropping the digests of files that
        no longer exist (so that churn does not grow it); a call that changed nothing writes
        nothing."""
        if not self.changed:
            return
        digests = self.data["digests"]
        for name in [name for name in digests if not os.path.exists(name)]:  # noqa: PTH110
            del digests[name]
        remove_scratch(self.path.parent)
        write_json(self.path, self.data)


def _digest_entry(entry: object) -> bool:
    """``[size, mtime_ns, sha256 hex]``."""
    if not shaped(entry, int, int, str):
        return False
    assert isinstance(entry, list)
    return len(entry[2]) == 64 and all(c in "0123456789abcdef" for c in entry[2])


# The shape of each section's entries, as this version writes them.
SECTIONS: dict[str, Callable[[object], bool]] = {
    "listings": lambda entry: shaped(entry, str, list) and list_of_strings(entry[1:][0]),  # type: ignore[index]
    "files": lambda entry: shaped(entry, str, str),
    "digests": _digest_entry,
    "rendered": list_of_strings,
}
