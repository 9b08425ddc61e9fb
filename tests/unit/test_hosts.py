"""Hosts other than Linux: the real commands with the POSIX-only pieces taken away, and the
pure decisions and path spellings that differ by host.

Nothing here runs on a real Windows or macOS. ``tests/hosts/windows_like`` makes the ``poetry``
process lack what a Windows Python lacks (``fcntl``, ``os.getuid``, ``signal.SIGHUP``, ...)
and write text files with CRLF, as Windows' text mode does; build, run and shell then go
through the real engine. What cannot be simulated (``sys.platform``, the path flavour) is
decided by pure functions, tested here with Windows and macOS inputs.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
from pathlib import Path, PureWindowsPath
from types import SimpleNamespace

import pytest

from poetry_docker_plugin.engine.mounts import absolute_volume, bind_mount, csv_fields
from poetry_docker_plugin.engine.run import watched_signals
from poetry_docker_plugin.pipeline.host_user import maps_host_user
from tests.conftest import (
    POETRY,
    Result,
    run_poetry,
    windows_like_env,
)


def windows_like(project: Path, *arguments: str) -> Result:
    """``poetry ARGUMENTS`` in ``project``, as on a host without the POSIX-only pieces."""
    return run_poetry(project, *arguments, env=windows_like_env())


def test_the_simulation_takes_the_posix_pieces_away(tmp_path: Path) -> None:
    """The simulated host lacks what the plugin must not need, and Poetry still runs."""
    probe = (
        "import os, signal\n"
        "try:\n    import fcntl\nexcept ImportError:\n    print('no fcntl')\n"
        "print(hasattr(os, 'getuid'), hasattr(signal, 'SIGHUP'))\n"
        "open('t.txt', 'w').write('a\\n')\n"
    )
    python = Path(POETRY).parent / "python"
    result = subprocess.run(
        [str(python), "-c", probe],
        cwd=tmp_path,
        env={**os.environ, **windows_like_env()},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split("\n")[:2] == ["no fcntl", "False False"]
    assert (tmp_path / "t.txt").read_bytes() == b"a\r\n", "text mode writes CRLF, as on Windows"
    assert run_poetry(tmp_path, "--version", env=windows_like_env()).returncode == 0


@pytest.mark.parametrize(
    ("platform", "maps"),
    [("linux", True), ("darwin", False), ("win32", False), ("cygwin", False)],
)
def test_the_host_user_is_mapped_on_linux_only(platform: str, maps: bool) -> None:
    assert maps_host_user(platform) is maps


def test_watched_signals_are_those_the_host_has() -> None:
    windows = SimpleNamespace(SIGINT=2, SIGTERM=15, SIGBREAK=21, SIGABRT=22)
    assert watched_signals(windows) == [2, 15, 21]
    assert watched_signals(SimpleNamespace(SIGINT=2, SIGTERM=15)) == [2, 15]
    assert watched_signals() == [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def read_csv(line: str) -> list[str]:
    """The fields as a CSV reader (docker's client uses Go's encoding/csv) reads them."""
    return next(csv.reader([line]))


@pytest.mark.parametrize(
    ("path", "source"),
    [
        (r"C:\Users\ana\my app", r"C:\Users\ana\my app"),
        ("C:/Users/ana/my app", r"C:\Users\ana\my app"),
        (r"d:\work\proj", r"d:\work\proj"),
        (r"\\server\share\proj", r"\\server\share\proj"),
        (r"\\wsl.localhost\Ubuntu\home\ana\proj", r"\\wsl.localhost\Ubuntu\home\ana\proj"),
        (r"C:\Users\ana\a,b", r"C:\Users\ana\a,b"),
        (r'C:\Users\ana\say "hi"', r'C:\Users\ana\say "hi"'),
    ],
)
def test_windows_bind_mount_sources(path: str, source: str) -> None:
    """The source is Windows' own spelling, which Docker Desktop translates; CSV-quoted."""
    value = bind_mount(PureWindowsPath(path), "/app")
    assert read_csv(value) == ["type=bind", f"source={source}", "target=/app"]
    if "," not in path and '"' not in path:
        assert value == f"type=bind,source={source},target=/app", "no quotes when none needed"


def test_csv_fields_quote_only_what_needs_it() -> None:
    assert csv_fields("id=ca", "src=/tmp/a b/ca.pem") == "id=ca,src=/tmp/a b/ca.pem"
    assert csv_fields("id=ca", "src=/tmp/a,b/ca.pem") == 'id=ca,"src=/tmp/a,b/ca.pem"'


@pytest.mark.parametrize(
    ("value", "relative"),
    [
        (r"C:\data:/mnt", False),
        ("c:/data:/mnt", False),
        ("cache:/mnt", False),  # a named volume
        (r"\\server\share:/mnt", False),
        (r".\data:/mnt", True),
        (r"data\sub:/mnt", True),
        ("./data:/mnt", True),
        ("~/data:/mnt", True),
    ],
)
def test_windows_volume_sources(value: str, relative: bool) -> None:
    made = absolute_volume(value, windows=True)
    if relative:
        assert made.startswith(str(Path.cwd().resolve())) or made.startswith(str(Path.home()))
        assert made.endswith(":/mnt")
    else:
        assert made == value


def test_posix_volume_sources_are_unchanged_in_meaning() -> None:
    assert absolute_volume(r"data\sub:/mnt", windows=False) == r"data\sub:/mnt"
    assert absolute_volume("/abs:/mnt", windows=False) == "/abs:/mnt"
    made = absolute_volume("data/sub:/mnt", windows=False)
    assert made == f"{Path.cwd().resolve()}/data/sub:/mnt"
