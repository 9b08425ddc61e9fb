"""Builds of one project serialised, so that concurrent ones leave one consistent image."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path


@contextlib.contextmanager
def project_lock(path: Path, say: Callable[[str], None]) -> Iterator[None]:
    """Holds the lock file ``path`` for the time of a build; waits (saying so) while another
    build of the project holds it.

    Without it, two builds finishing together could leave ``name:version`` and
    ``name:latest`` on different images. The second build waits, then finds every layer
    cached. The lock is filelock's (already in Poetry's dependency tree): ``flock`` on
    POSIX hosts, ``msvcrt.locking`` on Windows, where there is no ``fcntl``.
    """
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        say("Waiting for another build of this project to finish...")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
