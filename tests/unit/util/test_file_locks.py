"""The one ``flock`` helper (``flocked``) and what rests on it: the plugin's locks (held,
waited for, pruned when free) and the temporary folders of dead processes (removed only when
their lock is free and their process gone)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

import pytest

from poetry_docker_plugin.util.file_locks import flocked, held, prune
from poetry_docker_plugin.util.tempdirs import remove_orphans

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX's")


def test_a_flock_is_taken_once_until_released(tmp_path: Path) -> None:
    path = tmp_path / "build.lock"
    first = flocked(path, create=True)
    assert first is not None
    try:
        assert flocked(path) is None, "held by another open file: not taken, not waited for"
        assert flocked(tmp_path) is not None, "a folder's flock is another lock"
    finally:
        os.close(first)
    again = flocked(path)
    assert again is not None
    os.close(again)


def test_held_waits_for_the_holder_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "build-x.lock"
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with held(path):
            holding.set()
            assert release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(30)
    with held(path, waiting=release.set) as waited:
        assert waited and release.is_set()
    thread.join()
    with held(path) as waited:
        assert not waited
    assert not path.exists(), "removed by its holder"


def test_prune_removes_the_free_lock_files_only(tmp_path: Path) -> None:
    free, taken = tmp_path / "build-free.lock", tmp_path / "build-taken.lock"
    free.touch()
    descriptor = flocked(taken, create=True)
    assert descriptor is not None
    try:
        prune(tmp_path, "build-*.lock")
        assert not free.exists()
        assert taken.exists()
    finally:
        os.close(descriptor)


def test_a_dead_processs_folder_is_removed_unless_its_lock_is_held(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    dead = int(finished.stdout)
    locked = tmp_path / f"poetry-docker-context-{dead}-locked"
    orphan = tmp_path / f"poetry-docker-context-{dead}-orphan"
    mine = tmp_path / f"poetry-docker-context-{os.getpid()}-mine"
    for folder in (locked, orphan, mine):
        folder.mkdir()
    descriptor = flocked(locked)  # a process of another pid namespace, still holding it
    assert descriptor is not None
    try:
        assert remove_orphans(tmp_path) == [orphan]
    finally:
        os.close(descriptor)
    assert remove_orphans(tmp_path) == [locked]
    assert mine.is_dir()
