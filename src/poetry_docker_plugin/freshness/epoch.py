"""The time a reproducible image carries, taken from the inputs.

The epoch (``SOURCE_DATE_EPOCH``, as reproducible-builds.org names it) is, in this order:

1. ``SOURCE_DATE_EPOCH`` from the environment, when it holds a number: the convention every
   reproducible build tool follows, so that CI can give one value to all of them;
2. the committer time of the project's last git commit (``git log -1 --format=%ct``): the
   same in every clone of that commit, a shallow one included, and the time a reader expects
   the image to be "from"; uncommitted edits do not move it;
3. else 1980-01-01T00:00:00Z (315532800), the earliest time a zip file (so a wheel) can hold.

Never a file's time: a checkout sets those to the clock, so two clones would differ. The epoch
is a build option of the fingerprint, so an image of another epoch is rebuilt (every step
cached). It never enters the Dockerfile's steps: the steps that write ``.pyc`` files get a
fixed ``SOURCE_DATE_EPOCH`` (``render/dockerfile.PYC_EPOCH``), which makes Python write hash-
based files that hold no time at all, so that a new commit keeps every layer cached.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from poetry_docker_plugin.names import ZIP_EPOCH

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


@dataclass(frozen=True)
class Epoch:
    """The time the image carries, and where it came from (said with -v)."""

    seconds: int
    source: str


def source_epoch(root: Path, environ: Mapping[str, str] | None = None) -> Epoch:
    """The epoch of the project at ``root`` (see the module's docstring for the order)."""
    environ = os.environ if environ is None else environ
    given = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if given.isdigit():
        return Epoch(int(given), "SOURCE_DATE_EPOCH")
    committed = last_commit_time(root)
    if committed is not None:
        return Epoch(committed, "the last git commit")
    return Epoch(ZIP_EPOCH, "no git commit: 1980-01-01")


def last_commit_time(root: Path) -> int | None:
    """The committer time of HEAD of the git work tree holding ``root``; None without one."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = result.stdout.strip()
    return int(text) if result.returncode == 0 and text.isdigit() else None
