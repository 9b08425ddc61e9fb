"""Locks between the plugin's processes: builds of one project serialised, and the moving of
tags made atomic (``tagging``). Lock files are removed when released, so none accumulates.

A lock file left in place forever is the easy way (filelock's), and the cache of a machine
that builds many checkouts ends up holding one per project directory ever built. Here the
holder removes the file while it still holds it, and a waiter that then gets the lock checks
that the path still names the file it locked, taking the new one otherwise (the lock is the
path, not the inode). Files left by a killed holder, or by earlier versions, are removed by
the next call that takes a lock, once it finds them free. Without ``fcntl`` (Windows) filelock
does the locking and its files stay.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@contextlib.contextmanager
def project_lock(path: Path, say: Callable[[str], None]) -> Iterator[bool]:
    """Holds the lock ``path`` for the time of a build; waits (saying so) while another build
    of the project holds it. Yields whether it waited: the other build may have made the very
    image this one was about to make.

    Without it, two builds finishing together could leave ``name:version`` and
    ``name:latest`` on different images.
    """
    prune(path.parent, "build-*.lock")
    with held(path, lambda: say("Waiting for another build of this project to finish...")) as (
        waited
    ):
        yield waited


@contextlib.contextmanager
def held(path: Path, waiting: Callable[[], None] = lambda: None) -> Iterator[bool]:
    """Holds the lock file ``path`` (made when missing), calling ``waiting`` first when another
    process holds it; yields whether it had to wait."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        with _file_lock(path, waiting) as waited:
            yield waited
        return
    descriptor = _acquire(path, blocking=False)
    waited = descriptor is None
    if descriptor is None:
        waiting()
        descriptor = _acquire(path, blocking=True)
    assert descriptor is not None
    try:
        yield waited
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # while held: a waiter on this file sees it gone and retries
        os.close(descriptor)


def prune(folder: Path, pattern: str) -> None:
    """Removes the lock files in ``folder`` that no process holds (their projects may no
    longer exist); never one that is held."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return
    with contextlib.suppress(OSError):
        for path in folder.glob(pattern):
            with contextlib.suppress(OSError):
                descriptor = _acquire(path, blocking=False, create=False)
                if descriptor is not None:
                    path.unlink()
                    os.close(descriptor)


def _acquire(path: Path, *, blocking: bool, create: bool = True) -> int | None:
    """A descriptor of ``path`` holding its ``flock``; None when another holds it (or, with
    ``create`` false, when there is no such file)."""
    import fcntl

    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        except FileNotFoundError:
            if create:
                raise
            return None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(descriptor)
            return None
        except BaseException:
            os.close(descriptor)
            raise
        try:
            current = path.stat()
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(os.fstat(descriptor), current):
            return descriptor
        os.close(descriptor)  # removed by its last holder meanwhile: lock the path anew
        if not create:
            return None


@contextlib.contextmanager
def _file_lock(path: Path, waiting: Callable[[], None]) -> Iterator[bool]:
    """filelock's lock (``msvcrt.locking`` on Windows), whose file stays."""
    from filelock import FileLock, Timeout

    lock = FileLock(path)
    waited = False
    try:
        lock.acquire(timeout=0)
    except Timeout:
        waited = True
        waiting()
        lock.acquire()
    try:
        yield waited
    finally:
        lock.release()


def lock_folder(cache_dir: Path, warn: Callable[[str], None]) -> Path:
    """Where the plugin's locks live: its cache folder, or, when that cannot be written (a
    read-only disk, a file in its place), a private folder in the temporary directory, after
    one warning that names the cache folder. A cache is an optimisation: it never stops a
    build."""
    import tempfile

    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        probe = cache_dir / f".writable-{os.getpid()}"
        probe.touch()
        probe.unlink()
        return cache_dir
    except OSError as error:
        user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
        fallback = Path(tempfile.gettempdir()) / f"poetry-docker-locks-{user}"
        warn(
            f"Warning: the plugin's cache folder {cache_dir} cannot be written "
            f"({error.strerror or error}): this call runs without its cache (slower), and "
            f"its locks are in {fallback}. Make {cache_dir} writable, or point Poetry's "
            "cache-dir (POETRY_CACHE_DIR) at a folder you may write to."
        )
    from poetry_docker_plugin.util.oserrors import explained

    with explained("make the folder for the plugin's locks", fallback):
        fallback.mkdir(mode=0o700, exist_ok=True)
        status = fallback.lstat()
        if hasattr(os, "getuid") and (fallback.is_symlink() or status.st_uid != os.getuid()):
            raise PermissionError(13, "it belongs to another user", str(fallback))
    return fallback
