"""Runs ``docker build`` with its progress shown as the engine draws it, and keeps the end of
what it printed, so that a failed build can be explained (the caller reads it; the engine
knows nothing of what it means).

On a terminal the client draws its live progress only when its stderr is a terminal: it gets
a pseudo-terminal of its own, whose bytes are passed to the real one and kept. Elsewhere (CI,
pipes) its plain output is passed through line by line and kept.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

# What is kept of the output: the failing step's lines are at its end.
KEPT_BYTES = 512 * 1024
# Terminal control sequences (colours, cursor moves) and carriage returns of the live display.
_CONTROL = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\r")


def run_build(
    command: list[str], environment: Mapping[str, str], *, quiet: bool
) -> tuple[int, str]:
    """Runs ``command`` (the client and its build arguments); its exit code and the end of its
    output as plain text. Interrupted, the client is stopped (which cancels the build in the
    engine) before the exception goes on."""
    stdout = subprocess.DEVNULL if quiet else sys.stderr.fileno()
    if sys.stderr.isatty() and os.name != "nt":
        import pty

        reading, writing = pty.openpty()
        _copy_window_size(writing)
    else:
        reading, writing = os.pipe()
    try:
        process = subprocess.Popen(command, env=environment, stdout=stdout, stderr=writing)
    except BaseException:
        os.close(reading)
        raise
    finally:
        os.close(writing)
    try:
        kept = _pass_through(reading)
        process.wait()
    except BaseException:
        from poetry_docker_plugin.util.interrupts import stop

        stop(process)
        raise
    finally:
        os.close(reading)
    return process.returncode, plain_text(bytes(kept))


def _copy_window_size(terminal: int) -> None:
    """The client's pseudo-terminal gets the real one's size, so that it draws to fit."""
    import fcntl
    import termios

    try:
        size = fcntl.ioctl(sys.stderr.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, size)
    except OSError:
        pass


def _pass_through(reading: int) -> bytearray:
    """Copies what the client writes to this process's stderr as it comes, keeping its end,
    until the client closes its end (a pipe reads empty, a pseudo-terminal fails with EIO)."""
    kept = bytearray()
    sys.stderr.flush()  # what this process said before comes first
    while True:
        try:
            chunk = os.read(reading, 65536)
        except OSError:
            break
        if not chunk:
            break
        os.write(sys.stderr.fileno(), chunk)
        _keep(kept, chunk)
    return kept


def _keep(kept: bytearray, chunk: bytes) -> None:
    kept += chunk
    if len(kept) > 2 * KEPT_BYTES:
        del kept[: len(kept) - KEPT_BYTES]


def plain_text(output: bytes) -> str:
    """The output without terminal control sequences, as text."""
    return _CONTROL.sub(b"", output[-KEPT_BYTES:]).decode("utf-8", "replace")
