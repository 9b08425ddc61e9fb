"""OS errors as the plugin's errors: each names the path and what the plugin was doing.

An ``OSError`` alone says ``[Errno 28] No space left on device`` and nothing else: not which
disk, not whether the image was built or the push went through. Every place that writes on
the host wraps its work in ``explained`` with the words for what it does, so that the user
reads one paragraph that says where, what and how to get on.
"""

from __future__ import annotations

import contextlib
import errno
from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def describe(error: OSError, doing: str, where: Path | str, then: str = "") -> str:
    """The paragraph for ``error``, raised while ``doing`` in ``where``.

    ``then`` says what already happened and holds (a push that went through), or what to do
    next; a fix for the common causes (a full disk, a read-only or foreign folder) follows.
    """
    path = error.filename or where
    reason = error.strerror or str(error)
    message = f"Could not {doing}: {reason} ({path})."
    if then:
        message += f" {then}"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        message += f" Free space on the disk that holds {where}, or choose a folder with room."
    elif error.errno == errno.EPERM:  # not the mode bits (EACCES): an attribute or a policy
        message += (
            f" The system refuses it whatever the permissions: {path} may be immutable or "
            f"append-only (`lsattr {path}` shows it; `chattr -i` lifts it), or a security "
            "policy forbids the change."
        )
    elif error.errno in (errno.EROFS, errno.EACCES):
        message += f" Make {where} writable for your user, or choose a folder you may write to."
    elif error.errno in (errno.ENOTDIR, errno.EEXIST):
        message += f" A file stands where a folder is needed under {where}: move it away."
    return message


@contextlib.contextmanager
def explained(doing: str, where: Path | str, then: str = "") -> Iterator[None]:
    """Turns an ``OSError`` of the block into a ``DockerPluginError`` (``describe``)."""
    try:
        yield
    except OSError as error:
        raise DockerPluginError(describe(error, doing, where, then)) from None
