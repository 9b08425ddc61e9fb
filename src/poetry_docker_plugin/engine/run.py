"""Running a container in the foreground: the client's streams are the user's, signals are
passed on, and no container outlives the command."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import threading
from typing import IO, TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from poetry_docker_plugin.engine.client import Engine

# Seconds a container gets to stop after a signal before it is removed by force.
STOP_TIMEOUT = 10


# What podman prints when the init binary of `run --init` (catatonit) is missing.
PODMAN_INIT_MISSING = re.compile(rb"container-init binary not found on the host: ([^\n]*)")


def run_container(engine: Engine, arguments: Sequence[str], name: str) -> int:
    """Runs ``docker run ARGUMENTS`` in the foreground; returns the container's exit code.

    SIGINT, SIGTERM and SIGHUP sent to this process are passed to the client, which
    passes them to the container (PID 1 is docker's init). If the container has not
    stopped a few seconds later it is removed by force, so that no container outlives
    the command. Only the signals the host has are watched (``watched_signals``); on
    Windows the console delivers Ctrl-C and Ctrl-Break to the client itself, so they are
    only noted there, to start the countdown to the forced removal.
    """
    import time

    started = int(time.time())
    engine.show(["run", "--name", name, *arguments])
    # The client's stderr is passed through as it comes, its end kept to tell why a run
    # failed; stdin and stdout (the terminal, with --tty) are the client's own.
    process = subprocess.Popen(
        [engine.executable, "run", "--name", name, *arguments], stderr=subprocess.PIPE
    )
    tail = bytearray()
    relay = threading.Thread(target=_relay, args=(process.stderr, tail), daemon=True)
    relay.start()
    received: list[int] = []

    def force_stop() -> None:
        engine.capture(["rm", "--force", name])
        process.kill()

    # Started by the first signal: the container then has STOP_TIMEOUT seconds to stop.
    deadline = threading.Timer(STOP_TIMEOUT, force_stop)
    deadline.daemon = True

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        if process.poll() is None and os.name != "nt":
            process.send_signal(signum)
        if len(received) == 1:
            deadline.start()

    previous = {signum: signal.signal(signum, forward) for signum in watched_signals()}
    try:
        # A blocking wait returns the moment the client exits (a polling one would add
        # up to its interval to every run); signals still reach ``forward`` meanwhile.
        returncode = process.wait() if os.name != "nt" else _wait_on_windows(process)
    finally:
        deadline.cancel()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        relay.join(timeout=5)
    if received:
        engine.capture(["rm", "--force", name])
    if returncode == 125:  # the engine's own failure, not the command's
        missing = PODMAN_INIT_MISSING.search(tail)
        if missing and "--init" in arguments and engine.is_podman():
            _no_init_binary(engine, missing.group(1).decode(errors="replace").strip())
        engine.diagnose()
    if returncode == KILLED and not received:
        _killed(engine, name, started)
    return 128 - returncode if returncode < 0 else returncode


KILLED = 128 + 9  # SIGKILL: what `docker kill` and the out-of-memory killer send


def _killed(engine: Engine, name: str, started: int) -> None:
    """The container ended by SIGKILL that this command did not send: said, with whether
    the engine recorded it running out of memory (its events outlive the removed container)."""
    import time

    until = str(int(time.time()) + 1)
    events = engine.capture(
        ["events", "--since", str(started), "--until", until, "--filter",
         f"container={name}", "--filter", "event=oom", "--format", "{{.Action}}"]
    )  # fmt: skip
    if "oom" in events.stdout:
        why = (
            "the engine reports that it ran out of memory (OOM). Give it more memory "
            "(docker run's --memory, or the memory of Docker Desktop's VM), or make the "
            "command use less."
        )
    else:
        why = (
            "not by its command and not by this plugin: by `docker kill`, `docker stop` "
            "after its timeout, or the host's out-of-memory killer (the engine recorded no "
            "out-of-memory event for it)."
        )
    raise DockerPluginError(f"The container {name} was killed (SIGKILL, exit 137), {why}", KILLED)


def _no_init_binary(engine: Engine, detail: str) -> None:
    client = "podman" if engine.named_podman else engine.executable
    shim = "" if client == "podman" else " (podman's docker shim)"
    raise DockerPluginError(
        f"{client}{shim} could not start the container because its init binary is missing "
        f"({detail}). `poetry docker run` and `poetry docker shell` start containers with "
        "--init, so that signals reach the command and zombies are reaped, and podman's "
        "--init runs catatonit: install catatonit (Debian/Ubuntu: apt-get install "
        "catatonit), or point `init_path` in containers.conf at it, then try again.",
        exit_code=125,
    )


def watched_signals(signals: object = signal) -> list[int]:
    """The signals ``run`` passes on that this host has: SIGINT and SIGTERM everywhere,
    SIGHUP (a closed terminal) on POSIX hosts, SIGBREAK (Ctrl-Break) on Windows.

    ``signals`` is the ``signal`` module, or a stand-in for a host this one is not.
    """
    names = ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")
    return [getattr(signals, name) for name in names if hasattr(signals, name)]


def _wait_on_windows(process: subprocess.Popen[bytes]) -> int:
    """Waits in short steps: Windows' infinite wait would hold off Python's Ctrl-C handler,
    and with it the countdown to the forced removal, until the client exits."""
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return process.wait(timeout=0.2)


def _relay(stream: IO[bytes] | None, tail: bytearray) -> None:
    """Copies what a client writes to its stderr to ours as it comes (a prompt without a
    newline included), keeping its last few KiB in ``tail``; closes ``stream`` at its end."""
    assert isinstance(stream, io.BufferedReader)
    with stream:
        while chunk := stream.read1(65536):
            tail += chunk
            del tail[:-4096]
            with contextlib.suppress(OSError, ValueError):  # our stderr closed: drain on
                sys.stderr.buffer.write(chunk)
                sys.stderr.buffer.flush()
