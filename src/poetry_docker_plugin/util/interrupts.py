"""Signals during a build: SIGINT and SIGTERM become exceptions, so that every ``with`` block
undoes what it made (the staged context, the credentials file) and the engine's client is
stopped, whoever sent the signal: a terminal's Ctrl-C reaches the whole process group, but
CI runners, ``kill`` and ``timeout`` signal the poetry process alone."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the build was; the command exits 143 (128 + 15), as a shell
    reports a process that SIGTERM ended."""

    exit_code = 143


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, SIGINT raises KeyboardInterrupt and SIGTERM ``Terminated``, once:
    a second signal while the first unwinds is ignored, so that the clean-up runs whole."""
    raised = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if raised:
            return
        raised = True
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    watched = [signal.SIGINT, *([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])]
    try:
        previous = {signum: signal.signal(signum, handler) for signum in watched}
    except ValueError:  # not the main thread: signals cannot be caught here
        yield
        return
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def signals_deferred() -> Iterator[list[str]]:
    """Within the block, SIGINT and SIGTERM are held, and raised when it ends: steps that
    must happen together, such as moving every tag of an image, are never cut between two.
    The block is a few quick engine calls. What it appends to the list it is given (what it
    finished) becomes the interrupt's ``done``, for the message."""
    received: list[int] = []
    done: list[str] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    watched = [signal.SIGINT, *([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])]
    try:
        previous = {signum: signal.signal(signum, handler) for signum in watched}
    except ValueError:  # not the main thread: signals cannot be caught here
        yield done
        return
    failure: BaseException | None = None
    try:
        yield done
    except BaseException as error:  # a terminal's Ctrl-C also reaches the engine's client
        failure = error
        raise
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        if received:  # said as the interrupt it was; what the block finished, if it did
            interrupt = Terminated() if received[0] == signal.SIGTERM else KeyboardInterrupt()
            interrupt.done = "" if failure else "; ".join(done)  # type: ignore[attr-defined]
            raise interrupt from failure


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ends a client: SIGTERM (docker cancels its build), then SIGKILL after 10 seconds."""
    with contextlib.suppress(OSError):
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def interrupted(
    interrupt: KeyboardInterrupt,
    tagged: list[tuple[str, ...]],
    nothing: str = "nothing was tagged, and any previous image of the project is unchanged",
) -> str:
    """What is true after SIGINT or SIGTERM: the tags of an image move together or not at
    all (``tagging``), and what they name is said."""
    done = getattr(interrupt, "done", "")
    if done:
        return f"Interrupted while the tags were moved: the move was finished first, so {done}."
    if tagged:
        images = "; ".join(
            f"{', '.join(tags)} name the new image {image}" for *tags, image in tagged
        )
        return (
            f"Interrupted after the build: {images}. What came after (a push, a file to "
            "write, the container) did not finish; nothing was pushed but what was said above."
        )
    return f"Interrupted: {nothing}."
