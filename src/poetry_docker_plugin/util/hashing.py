"""Content digests of files: the sha256 of each, and of a list of files with their paths."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


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


# A file or folder changed less than this long ago is not trusted to show its next change by
# its time (an edit within the same clock tick would not), as git's index does.
RACY_NS = 2_000_000_000

# The files whose change may change which files a folder's listing holds.
IGNORE_FILES = (".gitignore", ".dockerignore")


def tree_signature(root: Path, not_after_ns: int) -> str | None:
    """A digest of the times of every folder and ignore file under ``root``, and of its
    pyproject.toml: it changes when a file is added, removed or renamed, or when what is
    ignored changes. None when one of them changed after ``not_after_ns`` (too recently to
    be trusted: an edit in the same clock tick would not show)."""
    pyproject = root / "pyproject.toml"
    digest = hashlib.sha256(pyproject.read_bytes() if pyproject.is_file() else b"")
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in (".git", "__pycache__"))
        here = Path(folder)
        watched = [here, *(here / f for f in sorted(files) if f in IGNORE_FILES)]
        for path in watched:
            mtime = path.stat().st_mtime_ns
            if mtime > not_after_ns:
                return None
            # The name as the OS has it: a folder name may be no UTF-8 (as poetry build allows).
            digest.update(os.fsencode(path) + f"\0{mtime}\0".encode())
    return digest.hexdigest()
