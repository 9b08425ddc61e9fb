"""The plugin's temporary folders (the staged context, the image-id file, build secrets).

A ``finally`` removes them, except when nothing runs any more: a ``kill -9``, a CI runner's
timeout, a machine that loses power. So each folder is named after the process that made it
(``poetry-docker-context-<pid>-<random>``) and, where ``fcntl`` exists, that process holds a
``flock`` on the folder for its life (the kernel drops it when the process dies, however it
dies). Every later call that makes such a folder first removes those whose process is gone:
the lock is free *and* the pid is not running. Either test alone could be wrong (a pid reused
by another program; a folder made but not yet locked), both together never remove a live
one, and a pid seen from another pid namespace (a container sharing /tmp) is kept by its lock.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_docker_plugin.names import TEMP_PREFIX
from poetry_docker_plugin.util.oserrors import explained

if TYPE_CHECKING:
    from collections.abc import Iterator

# poetry-docker-<kind>-<pid>-<random>: what this version makes.
OWNED = re.compile(rf"{re.escape(TEMP_PREFIX)}([a-z]+)-(\d+)-")
# poetry-docker-<kind>-<random>: what earlier versions made, with no owner to ask.
LEGACY = re.compile(rf"{re.escape(TEMP_PREFIX)}(context|iid|secrets)-[^-]+$")
LEGACY_AGE = 24 * 3600  # a legacy folder older than this belongs to no running build
_SWEPT: list[bool] = []


@contextlib.contextmanager
def temp_dir(kind: str, doing: str) -> Iterator[Path]:
    """A private folder for ``kind`` (one lower-case word), removed afterwards; the leftovers
    of dead processes are removed first. ``doing`` names the work, for an error making it."""
    sweep()
    root = tempfile.gettempdir()
    with explained(f"make a temporary folder for {doing}", root, "Nothing was built."):
        directory = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{kind}-{os.getpid()}-"))
    holder = _hold(directory)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        if holder is not None:
            os.close(holder)


def sweep() -> None:
    """``remove_orphans``, once per process: every call of every command starts with it
    (``commands.base``), also one that a record answers and one that makes no folder."""
    if not _SWEPT:
        _SWEPT.append(True)  # once per process: the temporary folder may hold many entries
        remove_orphans()


def remove_orphans(root: Path | None = None) -> list[Path]:
    """Removes the plugin's temporary folders whose process no longer runs; the removed.

    Only this user's folders are looked at (another's are not ours to judge, and the sticky
    /tmp would refuse anyway). Never on Windows, where ``os.kill(pid, 0)`` would end ``pid``.
    """
    if os.name == "nt":
        return []
    folder = root or Path(tempfile.gettempdir())
    uid = os.getuid() if hasattr(os, "getuid") else None
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        with contextlib.suppress(OSError):
            status = entry.stat(follow_symlinks=False)
            foreign = uid is not None and status.st_uid != uid
            if foreign or not entry.is_dir(follow_symlinks=False):
                continue
            owned = OWNED.match(entry.name)
            if owned:
                pid = int(owned.group(2))
                orphan = pid != os.getpid() and not running(pid) and _unlocked(entry.path)
            else:
                old = time.time() - status.st_mtime > LEGACY_AGE
                orphan = bool(LEGACY.match(entry.name)) and old
            if orphan:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(Path(entry.path))
    return removed


def running(pid: int) -> bool:
    """Whether a process ``pid`` exists here (one of another user's counts: it exists).
    Not on Windows, where ``os.kill(pid, 0)`` would end it: there every pid runs."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _hold(directory: Path) -> int | None:
    """A descriptor of ``directory`` holding its ``flock`` (None without ``fcntl``). Not
    inherited by children (Python's default), so an orphaned ``docker`` does not keep it."""
    try:
        import fcntl
    except ImportError:
        return None
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return None
    return descriptor


def _unlocked(path: str) -> bool:
    """Whether no process holds the folder's ``flock`` (true without ``fcntl``)."""
    try:
        import fcntl
    except ImportError:
        return True
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(descriptor)
    return True
