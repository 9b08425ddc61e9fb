"""Content digests of files: the sha256 of each, and of a list of files with their paths."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path


def digest_files(
    root: Path, files: Iterable[Path], digest_of: Callable[[Path], bytes] | None = None
) -> str:
    """The sha256 (hex) of the files' paths, relative to ``root``, and contents, in order.

    ``digest_of`` gives a file's content digest (a cache's), else the file is read.
    """
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.as_posix().encode() + b"\0")
        digest.update(digest_of(root / path) if digest_of else file_digest(root / path))
    return digest.hexdigest()


def file_digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()
