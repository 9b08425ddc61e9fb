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
        return _through_terminal(command, environment, stdout)
    process = subprocess.Popen(command, env=environment, stdout=stdout, stderr=subprocess.PIPE)
    kept = bytearray()
    try:
        assert process.stderr is not None
        for line in process.stderr:
            sys.stderr.buffer.write(line)
            sys.stderr.buffer.flush()
            _keep(kept, line)
        process.wait()
    except BaseException:
        _stop(process)
        raise
    finally:
        if process.stderr is not None:
            process.stderr.close()
    return process.returncode, plain_text(bytes(kept))


def _through_terminal(
    command: list[str], environment: Mapping[str, str], stdout: int
) -> tuple[int, str]:
    import fcntl
    import pty
    import termios

    primary, secondary = pty.openpty()
    try:
        size = fcntl.ioctl(sys.stderr.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, size)
    except OSError:
        pass
    try:
        process = subprocess.Popen(command, env=environment, stdout=stdout, stderr=secondary)
    finally:
        os.close(secondary)
    kept = bytearray()
    try:
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the client closed its end
                break
            if not chunk:
                break
            os.write(sys.stderr.fileno(), chunk)
            _keep(kept, chunk)
        process.wait()
    except BaseException:
        _stop(process)
        raise
    finally:
        os.close(primary)
    return process.returncode, plain_text(bytes(kept))


def _keep(kept: bytearray, chunk: bytes) -> None:
    kept += chunk
    if len(kept) > 2 * KEPT_BYTES:
        del kept[: len(kept) - KEPT_BYTES]


def _stop(process: subprocess.Popen[bytes]) -> None:
    from poetry_docker_plugin.interrupts import stop

    stop(process)


def plain_text(output: bytes) -> str:
    """The output without terminal control sequences, as text."""
    return _CONTROL.sub(b"", output[-KEPT_BYTES:]).decode("utf-8", "replace")
