"""Bad input and failures: one clear message, a non-zero exit, and nothing left behind.

Every case runs the real ``poetry docker build`` on a project whose image was built before,
then checks what a user would: the message, the exit code, no traceback, no staged context
left in the temporary directory, no container left over, and the previous image still
tagged and working.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from poetry.factory import Factory

from tests.conftest import (
    DOCKER,
    POETRY,
    Base,
    configure,
    copy_fixture,
    docker,
    run_poetry,
    windows_like_env,
)


def set_key(key: str, value: object) -> Callable[[Path], None]:
    return lambda project: configure(project, **{key: value})


def append(text: str) -> Callable[[Path], None]:
    def change(project: Path) -> None:
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + text)

    return change


def broken_lock(project: Path) -> None:
    (project / "poetry.lock").write_text("[[package]\nname = ")


def impossible_python(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('">=3.9,<4"', '">=3.40"'))
    lock = project / "poetry.lock"
    old_hash = Factory().create_poetry(project).locker.lock_data["metadata"]["content-hash"]
    new_hash = Factory().create_poetry(project).locker._get_content_hash()
    lock.write_text(lock.read_text().replace(old_hash, new_hash))


CASES: dict[str, tuple[Callable[[Path], None], list[str], str]] = {
    "malformed TOML": (append("\n[tool.poetry-docker\nimage = 1\n"), [], "pyproject.toml"),
    "wrong type": (
        set_key("ports", "8000"),
        [],
        "Invalid value for `ports` in [tool.poetry-docker]",
    ),
    "unknown key": (set_key("pyhton", "3.12"), [], "Unknown key `pyhton` in [tool.poetry-docker]"),
    "invalid image reference": (set_key("base_image", "Not An/Image"), [], "`base-image`"),
    "invalid tag": (lambda p: None, ["--tag", "name:bad tag"], "Invalid value for option --tag"),
    "invalid cache-from": (
        set_key("cache_from", ["registry.example.org/app:1 --push"]),
        [],
        "Invalid value for `cache-from` in [tool.poetry-docker]",
    ),
    "invalid --cache-from": (
        lambda p: None,
        ["--cache-from", "Bad Ref"],
        "Invalid value for option --cache-from",
    ),
    "--digest-file without --push": (
        lambda p: None,
        ["--digest-file", "image.digest"],
        "--digest-file writes the digest of a pushed image: add --push",
    ),
    "--push with --print": (lambda p: None, ["--push", "--print"], "--push pushes a built image"),
    "lock that does not parse": (broken_lock, [], "poetry.lock cannot be read"),
    "no Python meets the constraint": (impossible_python, [], "constraint '>=3.40'"),
    "a RUN that fails": (
        set_key("apt_packages", ["no-such-package-pdp"]),
        [],
        "The image build failed",
    ),
}


@pytest.fixture(scope="module", params=["venv", "conda"])
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, engine: str
) -> Iterator[tuple[Path, str]]:
    """The flat-script project, built once per manager under its own name: the 'previous
    image'."""
    image = request.getfixturevalue("base_image" if request.param == "venv" else "conda_base_image")
    base = Base(request.param, image)
    project = copy_fixture("flat-script", tmp_path_factory.mktemp(f"errors-{base.manager}"))
    name = f"pdp-errors-{base.manager}-{os.getpid()}"
    configure(project, image=name, **base.settings)
    result = run_poetry(project, "docker", "build")
    assert result.returncode == 0, result.output
    yield project, f"{name}:0.3.1"
    docker("image", "rm", "--force", f"{name}:0.3.1", f"{name}:latest", check=False)


def containers() -> set[str]:
    """Containers of the plugin's or of the test images (others may run beside the tests)."""
    listing = docker("ps", "--all", "--no-trunc", "--format", "{{.ID}} {{.Image}} {{.Labels}}")
    return {
        line.split()[0]
        for line in listing.stdout.splitlines()
        if "pdp-" in line or "dev.poetry-docker" in line
    }


def assert_nothing_left_behind(scratch: Path, image: str, image_id: str, before: set[str]) -> None:
    assert list(scratch.iterdir()) == [], "the staged context and secrets are removed"
    assert containers() == before, "no container is left behind"
    assert docker("image", "inspect", "--format", "{{.Id}}", image).stdout.strip() == image_id
    assert docker("run", "--rm", image).stdout.startswith("hello from hello-app")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case: str, built: tuple[Path, str], tmp_path: Path) -> None:
    original, image = built
    project = tmp_path / "project"
    shutil.copytree(original, project)
    change, arguments, message = CASES[case]
    change(project)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    image_id = docker("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
    before = containers()

    result = run_poetry(project, "docker", "build", *arguments, env={"TMPDIR": str(scratch)})

    assert result.returncode != 0
    assert message in result.stderr, result.output
    assert "Traceback" not in result.output and "Stack trace" not in result.output
    assert_nothing_left_behind(scratch, image, image_id, before)


class EngineProxy:
    """A Unix socket in front of the engine's, that can be cut to make the engine 'go away'."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(str(path))
        self.listener.listen(16)
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX)
            engine.connect("/var/run/docker.sock")
            self.sockets += [client, engine]
            for source, target in ((client, engine), (engine, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        for end in self.sockets:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


def interrupted_build(
    project: Path,
    scratch: Path,
    env: dict[str, str],
    interrupt: Callable[[subprocess.Popen[str]], None],
) -> tuple[int, str]:
    """Starts a slow build (uncached, with apt), interrupts it once its apt step runs."""
    configure(project, apt_packages=["file"])
    process = subprocess.Popen(
        [POETRY, "--no-ansi", "docker", "build", "--no-cache"],
        cwd=project,
        env={**os.environ, "POETRY_DOCKER_ENGINE": DOCKER, "TMPDIR": str(scratch), **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = ""
    for line in process.stdout:
        output += line
        if "apt-get update" in line:
            interrupt(process)
            break
    output += process.stdout.read()
    return process.wait(timeout=120), output


def test_the_engine_going_away_during_a_build(built: tuple[Path, str], tmp_path: Path) -> None:
    original, image = built
    project = tmp_path / "project"
    shutil.copytree(original, project)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    image_id = docker("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
    before = containers()
    proxy = EngineProxy(tmp_path / "engine.sock")
    code, output = interrupted_build(
        project, scratch, {"DOCKER_HOST": f"unix://{proxy.path}"}, lambda _: proxy.cut()
    )
    assert code != 0
    assert "The Docker engine is not reachable" in output
    assert "Traceback" not in output
    assert_nothing_left_behind(scratch, image, image_id, before)


@pytest.mark.parametrize(
    ("signum", "exit_code"),
    [
        pytest.param(signal.SIGINT, 130, id="SIGINT"),
        pytest.param(signal.SIGTERM, 143, id="SIGTERM"),
    ],
)
def test_a_signal_to_poetry_alone_stops_the_build(
    built: tuple[Path, str], tmp_path: Path, signum: int, exit_code: int
) -> None:
    """As CI runners, `kill` and `timeout` send it: to the poetry process, not its group. The
    engine's client is held at a gate until the signal has been sent, so the build cannot
    finish first however busy the machine (the old test raced a real build and lost); the
    staged context and the credentials file (a ca-bundle makes one) exist meanwhile."""
    original, image = built
    project = tmp_path / "project"
    shutil.copytree(original, project)
    configure(project, ca_bundle="/etc/ssl/certs/ca-certificates.crt")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    gate = tmp_path / "gate"
    gate.mkdir()
    client = tmp_path / "docker-gated"
    client.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = build ]; then\n'
        f"  echo $$ > {gate}/pid; touch {gate}/holding\n"
        f"  while [ ! -e {gate}/release ]; do sleep 0.05; done\n"
        "fi\n"
        f'exec {DOCKER} "$@"\n'
    )
    client.chmod(0o755)
    image_id = docker("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
    before = containers()
    process = subprocess.Popen(
        [POETRY, "--no-ansi", "docker", "build", "--no-cache"],
        cwd=project,
        env={**os.environ, "POETRY_DOCKER_ENGINE": str(client), "TMPDIR": str(scratch)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (gate / "holding").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the build never reached docker build"
            time.sleep(0.05)
        assert any(scratch.iterdir()), "the context and the secrets are staged"
        process.send_signal(signum)
        output, _ = process.communicate(timeout=60)
    finally:
        (gate / "release").touch()
        if process.poll() is None:
            process.kill()
    assert process.returncode == exit_code, output
    assert "Interrupted: nothing was tagged" in output
    assert "Traceback" not in output
    pid = int((gate / "pid").read_text())
    assert not Path(f"/proc/{pid}").exists(), "the engine's client is stopped"
    assert_nothing_left_behind(scratch, image, image_id, before)


@pytest.mark.parametrize("host", ["linux", "windows-like"])
def test_a_build_started_during_another_waits_and_the_edit_wins(
    base_image: str, tmp_path: Path, host: str
) -> None:
    """The case the project lock is for: build A runs from the old source, the source is
    edited, build B starts. Unserialised, A (slower) would tag last and leave the image of
    the old source; serialised, B waits for A and every tag ends on the edited source.

    A's engine holds its ``docker build`` at a gate until B says it waits, so that A keeps the
    lock as long as a slow build would. ``windows-like``: both builds without fcntl
    (tests/hosts/windows_like), as on Windows.
    """
    simulated = windows_like_env() if host == "windows-like" else {}
    project = copy_fixture("flat-script", tmp_path)
    name = f"pdp-test-{uuid.uuid4().hex[:10]}"
    configure(project, image=name, base_image=base_image)
    gate = tmp_path / "gate"
    gate.mkdir()
    slow = tmp_path / "docker-slow"
    slow.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = build ]; then\n'
        f"  touch {gate}/holding; i=0\n"
        f"  while [ ! -e {gate}/release ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\n"
        "fi\n"
        f'exec {DOCKER} "$@"\n'
    )
    slow.chmod(0o755)

    def start(engine: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [POETRY, "--no-ansi", "docker", "build"],
            cwd=project,
            env={**os.environ, "POETRY_DOCKER_ENGINE": engine, **simulated},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = start(str(slow))
    second: subprocess.Popen[str] | None = None
    try:
        deadline = time.monotonic() + 120
        while not (gate / "holding").exists():  # A has staged the old source, holds the lock
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "build A never reached docker build"
            time.sleep(0.1)
        cli = project / "hello_app" / "cli.py"
        cli.write_text(cli.read_text().replace("hello from", "hello (edited) from"))
        second = start(DOCKER)
        assert second.stderr is not None
        waited = ""
        for line in second.stderr:  # until B waits, or ends without waiting
            waited += line
            if "Waiting for another build of this project to finish..." in line:
                break
    finally:
        (gate / "release").touch()
        outputs = [(*p.communicate(timeout=600), p.returncode) for p in (first, second) if p]
    try:
        assert "Waiting for another build of this project to finish..." in waited, waited
        for stdout, stderr, code in outputs:
            assert code == 0, stdout + stderr
        ids = {
            docker("image", "inspect", "--format", "{{.Id}}", f"{name}:{tag}").stdout.strip()
            for tag in ("0.3.1", "latest")
        }
        assert len(ids) == 1, "every tag names the same image"
        assert docker("run", "--rm", f"{name}:0.3.1").stdout.startswith("hello (edited) from")
        fresh = run_poetry(project, "docker", "build")
        assert "is up to date" in fresh.stderr, "its fingerprint is the edited project's"
    finally:
        docker("image", "rm", "--force", f"{name}:0.3.1", f"{name}:latest", check=False)


def test_a_user_outside_the_docker_group_is_told_about_it(engine: str) -> None:
    """A user who may not open the engine's socket hears about the docker group (needs the
    engine, whose socket refuses that user, and root, to become another user)."""
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="pdp-outsider-"))
    try:
        shared.chmod(0o777)
        project = copy_fixture("flat-script", shared)
        subprocess.run(["chmod", "-R", "a+rwX", str(shared)], check=True)
        outsider = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        result = subprocess.run(
            [*outsider, POETRY, "--no-ansi", "docker", "build"],
            cwd=project,
            env={**os.environ, "HOME": str(shared), "POETRY_CACHE_DIR": str(shared / "cache")},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Add yourself to the docker group" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        shutil.rmtree(shared, ignore_errors=True)
