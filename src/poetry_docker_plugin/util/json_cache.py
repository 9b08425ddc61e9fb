"""The cache's files: read as untrusted JSON, written whole or not at all, never left half.

A cache is an optimisation, never a source of truth or of failure. Reading gives None for a
file that is missing, unreadable or not JSON (the caller then checks the shape of what it
got, and drops what it does not recognise); writing goes through a scratch file named after
the process, which is removed whatever happens (a full disk leaves no 0-byte ``.tmp``), and
gives up silently: the next call simply finds no cache.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import TYPE_CHECKING

from poetry_docker_plugin.util.tempdirs import running

if TYPE_CHECKING:
    from pathlib import Path


def read_json(path: Path) -> object:
    """The JSON value of ``path``; None when there is none to be had."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None


def write_json(path: Path, value: object, *, indent: int | None = None) -> bool:
    """Replaces ``path`` with ``value`` as JSON, whole; whether it was written."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch.write_text(json.dumps(value, indent=indent))
        scratch.replace(path)
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            scratch.unlink(missing_ok=True)
    return True


def remove_scratch(folder: Path) -> None:
    """Removes the scratch files of killed writers in ``folder`` (a process killed between
    writing and renaming), and the ``<key>.tmp`` files that earlier versions left."""
    with contextlib.suppress(OSError):
        for scratch in folder.glob("*.tmp"):
            pid = scratch.name.rsplit(".", 2)[-2] if scratch.name.startswith(".") else ""
            if pid.isdigit() and int(pid) != os.getpid() and running(int(pid)):
                continue
            with contextlib.suppress(OSError):
                scratch.unlink()


def list_of_strings(value: object) -> bool:
    """Whether a value read from a cache is a list of strings."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def shaped(entry: object, *kinds: type) -> bool:
    """Whether a cache entry is a list of values of ``kinds``, as this version writes them."""
    return (
        isinstance(entry, list)
        and len(entry) == len(kinds)
        and all(isinstance(value, kind) for value, kind in zip(entry, kinds, strict=True))
    )
