"""Hosts other than Linux, through the real engine: build, run and shell from a ``poetry``
process that lacks what a Windows Python lacks (tests/unit/test_hosts.py says how)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import (
    POETRY,
    Result,
    configure,
    copy_fixture,
    docker,
    run_poetry,
    windows_like_env,
)


def windows_like(project: Path, *arguments: str) -> Result:
    """``poetry ARGUMENTS`` in ``project``, as on a host without the POSIX-only pieces."""
    return run_poetry(project, *arguments, env=windows_like_env())


@pytest.fixture
def hello(tmp_path: Path, base_image: str, project_image: str) -> Path:
    """The flat-script fixture on the venv test base, in a folder with a space and a comma."""
    project = copy_fixture("flat-script", tmp_path / "my app, v2")
    configure(project, image=project_image, base_image=base_image)
    return project


def test_build_without_fcntl_and_with_crlf_text_mode(hello: Path, project_image: str) -> None:
    """The project lock needs no fcntl; the generated files keep LF (an entrypoint written
    in CRLF would fail: ``#!/bin/sh\\r`` is no interpreter)."""
    result = windows_like(hello, "docker", "build")
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output
    image = result.stdout.strip()
    assert image == f"{project_image}:0.3.1"
    assert docker("run", "--rm", image).stdout.startswith("hello from")
    again = windows_like(hello, "docker", "build")
    assert "is up to date" in again.stderr, "the same fingerprint as on any host"

    written = windows_like(hello, "docker", "build", "--output", "out")
    assert written.returncode == 0, written.output
    for name in ("Dockerfile", "entrypoint.sh", "activate.sh"):
        assert b"\r" not in (hello / "out" / name).read_bytes(), name


def test_run_without_sighup(hello: Path, project_image: str, tmp_path: Path) -> None:
    """run watches the signals the host has: SIGTERM still reaches the command, and the
    command's exit code comes back. The image is built first as on Linux, so that what is
    tested is run itself."""
    assert run_poetry(hello, "docker", "build").returncode == 0
    result = windows_like(hello, "docker", "run", "--", "sh", "-c", "echo ran; exit 3")
    assert result.returncode == 3, result.output
    assert "ran" in result.stdout
    trap = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: (print('got SIGTERM', flush=True), "
        "sys.exit(42)))\n"
        "print('ready', flush=True)\ntime.sleep(300)\n"
    )
    process = subprocess.Popen(
        [POETRY, "--no-ansi", "docker", "run", "--", "python", "-c", trap],
        cwd=hello,
        env={**os.environ, **windows_like_env()},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "err").open("w"),
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready", (tmp_path / "err").read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 42, (tmp_path / "err").read_text()
        assert process.stdout.read().strip() == "got SIGTERM"
    finally:
        process.kill()
        process.wait()
    label = f"label=dev.poetry-docker.image={project_image}:0.3.1"
    assert docker("ps", "--all", "--quiet", "--filter", label).stdout.strip() == ""


def test_shell_without_a_host_uid(hello: Path, project_image: str) -> None:
    """Without a host uid the development shell runs as the image's runtime user (``app``,
    10001), on the working tree mounted from a path with a space and a comma."""
    (hello / "marker.txt").write_text("from the host\n")
    result = windows_like(hello, "docker", "shell", "-c", "id -un; id -u; cat marker.txt")
    assert result.returncode == 0, result.output
    assert result.stdout.split("\n")[-4:-1] == ["app", "10001", "from the host"]
    user = docker("image", "inspect", "--format", "{{.Config.User}}", f"{project_image}:dev")
    assert user.stdout.strip() == "10001"


def test_a_ca_bundle_in_a_folder_with_a_comma(hello: Path) -> None:
    """``--secret id=...,src=PATH`` is CSV: a comma in the path is quoted, as for --mount."""
    folder = hello / "certs, proxy"
    folder.mkdir()
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", folder / "ca.pem")
    configure(hello, ca_bundle="certs, proxy/ca.pem")
    result = run_poetry(hello, "docker", "build")
    assert result.returncode == 0, result.output
