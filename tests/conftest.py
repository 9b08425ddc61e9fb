"""Shared fixtures: the real Poetry command line, a real Docker engine and the test base image.

Tests that need the engine take the ``engine`` fixture (and live in tests/engine/, marked
``docker``); the others live in tests/unit/. Without an engine the first are skipped, except
when REQUIRE_DOCKER=1 (as in CI), where a missing engine is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import tomllib

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from poetry.poetry import Poetry

    from poetry_docker_plugin.plan.model import BaseProbe, BuildPlan, HostUser
    from poetry_docker_plugin.project.settings import Settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
POETRY = str(Path(sys.executable).parent / "poetry")
DOCKER = os.environ.get("POETRY_DOCKER_ENGINE", "/usr/bin/docker")
TEST_BASE_IMAGE = os.environ.get("TEST_BASE_IMAGE", "poetry-docker-test-base:bookworm")
# A conda base: the offline stand-in for Miniforge that scripts/dev builds, or, on a machine
# that can pull it, the real one (CONDA_TEST_BASE_IMAGE=condaforge/miniforge3:25.3.1-0).
CONDA_TEST_BASE_IMAGE = os.environ.get("CONDA_TEST_BASE_IMAGE", "miniforge-standin:25.3.1")
# A conda base whose channel also holds Python 3.8, for projects whose wheels stop at 3.8: the
# stand-in built with EXTRA_PYTHONS=3.8, or a conda image you have (CONDA_PY38_TEST_BASE_IMAGE).
CONDA_PY38_TEST_BASE_IMAGE = os.environ.get(
    "CONDA_PY38_TEST_BASE_IMAGE", "miniforge-standin:25.3.1-py38"
)
# The same test base for linux/arm64 (scripts/test-base-image.sh IMAGE arm64), run under QEMU
# user emulation: the tests of other architectures (tests/engine/test_platforms_build.py).
ARM64_TEST_BASE_IMAGE = os.environ.get(
    "ARM64_TEST_BASE_IMAGE", "poetry-docker-test-base:bookworm-arm64"
)
CONDA_STANDIN = REPO.parent / "shared" / "conda-standin" / "make-base.sh"


# A directory whose sitecustomize.py takes from a poetry process what a Windows Python lacks.
WINDOWS_LIKE = Path(__file__).resolve().parent / "hosts" / "windows_like"


def windows_like_env() -> dict[str, str]:
    """PYTHONPATH that loads the Windows-like simulation first (the plugin's own path kept
    after it), and USERNAME, which Windows always sets (getpass reads it there, having no
    pwd module)."""
    paths = [str(WINDOWS_LIKE), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(paths), "USERNAME": "ana"}


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_poetry(
    project: Path,
    *arguments: str,
    env: dict[str, str] | None = None,
    timeout: float = 900,
    poetry: str = POETRY,
    prefix: tuple[str, ...] = (),
) -> Result:
    """Runs the real ``poetry`` of this environment (with the plugin) in ``project``, or
    another Poetry's (tests/install/test_poetry_versions.py). Byte-code is written, as for a
    plugin installed from its wheel: without it every call compiles the plugin anew.
    ``prefix``: a command that runs Poetry (``setarch i686``)."""
    environment = {**os.environ, "POETRY_DOCKER_ENGINE": DOCKER, **(env or {})}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    completed = subprocess.run(
        [*prefix, poetry, "--no-ansi", *arguments],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def poetry_in_process(
    project: Path, *arguments: str, env: dict[str, str] | None = None, stdin: str = ""
) -> Result:
    """Poetry's own application, in this process, as ``poetry --no-ansi ARGUMENTS`` run in
    ``project`` would be (cleo's ApplicationTester; the plugin loaded as Poetry loads it):
    for the tests of what the commands say and refuse, which need no process of their own.
    ``run_poetry`` remains for what does (another Poetry, a host simulation, signals)."""
    import contextlib
    import shlex
    from unittest import mock

    from cleo.testers.application_tester import ApplicationTester
    from poetry.console.application import Application

    environment = {"POETRY_DOCKER_ENGINE": DOCKER, **(env or {})}
    with mock.patch.dict(os.environ, environment), contextlib.chdir(project):
        tester = ApplicationTester(Application())
        words = " ".join(shlex.quote(word) for word in ("--no-ansi", *arguments))
        status = tester.execute(words, inputs=stdin, interactive=False)
        return Result(status, tester.io.fetch_output(), tester.io.fetch_error())


def docker(*arguments: str, check: bool = True, input: str | None = None) -> Result:
    completed = subprocess.run(
        [DOCKER, *arguments],
        capture_output=True,
        text=True,
        input=input,
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    result = Result(completed.returncode, completed.stdout, completed.stderr)
    if check and completed.returncode != 0:
        raise AssertionError(f"docker {' '.join(arguments)} failed:\n{result.output}")
    return result


def locked_versions(project: Path) -> dict[str, list[str]]:
    """Every version of every package in the project's lock, read with tomllib."""
    lock = tomllib.loads((project / "poetry.lock").read_text())
    versions: dict[str, list[str]] = {}
    for package in lock["package"]:
        versions.setdefault(package["name"], []).append(package["version"])
    return versions


def pip_freeze(tag: str) -> dict[str, str]:
    """What pip in the image's environment says is installed (without pip's own tools)."""
    lines = docker("run", "--rm", tag, "python", "-m", "pip", "freeze", "--all").stdout.split()
    pairs = (line.split("==") for line in lines if "==" in line)
    return {
        name.lower().replace("_", "-"): version
        for name, version in pairs
        if name not in ("pip", "setuptools", "wheel")
    }


def locked(project: Path, *names: str) -> dict[str, str]:
    """The locked versions of ``names`` (each locked once), as ``pip_freeze`` reports them."""
    versions = locked_versions(project)
    return {name: versions[name][0] for name in names}


def copy_fixture(name: str, destination: Path) -> Path:
    """A private copy of a fixture project, so that tests may edit it."""
    source = FIXTURES / name if (FIXTURES / name).is_dir() else REPO / name
    target = destination / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def configure(project: Path, **settings: object) -> None:
    """Sets keys of the project's [tool.poetry-docker] (``base_image`` for ``base-image``);
    a value of None removes the key."""
    import tomlkit

    pyproject = project / "pyproject.toml"
    document = tomlkit.parse(pyproject.read_text())
    tool = document.setdefault("tool", tomlkit.table())
    table = tool.setdefault("poetry-docker", tomlkit.table())
    for key, value in settings.items():
        if value is None:
            table.pop(key.replace("_", "-"), None)
        else:
            table[key.replace("_", "-")] = value
    pyproject.write_text(tomlkit.dumps(document))


@dataclass(frozen=True)
class LoggingEngine:
    """A docker client that logs every call, to prove which engine commands ran."""

    path: Path
    log: Path

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def builds(self) -> list[str]:
        return [call for call in self.calls() if call.startswith("build ")]


@pytest.fixture
def logging_engine(tmp_path: Path, engine: str) -> LoggingEngine:
    log = tmp_path / "engine.log"
    path = tmp_path / "docker-logging"
    path.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {engine} "$@"\n')
    path.chmod(0o755)
    return LoggingEngine(path, log)


@pytest.fixture
def project_image(image_tag: str) -> str:
    """A unique image repository for a project copy; removed afterwards (via image_tag)."""
    return image_tag.split(":")[0]


@pytest.fixture(scope="session")
def engine() -> str:
    """The Docker client, after checking that its daemon answers."""
    result = (
        subprocess.run(
            [DOCKER, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if shutil.which(DOCKER)
        else None
    )
    if result is None or result.returncode != 0:
        reason = f"no Docker engine answers through {DOCKER}"
        if os.environ.get("REQUIRE_DOCKER") == "1":
            pytest.fail(f"{reason}, and REQUIRE_DOCKER=1: start it with scripts/start-docker.sh")
        pytest.skip(reason)
    return DOCKER


@pytest.fixture(scope="session")
def base_image(engine: str) -> str:
    """The offline test base image, built once per machine by scripts/test-base-image.sh."""
    subprocess.run(
        ["bash", str(REPO / "scripts" / "test-base-image.sh"), TEST_BASE_IMAGE],
        check=True,
        env={**os.environ, "DOCKER": engine},
        stdout=subprocess.DEVNULL,
    )
    return TEST_BASE_IMAGE


@pytest.fixture(scope="session")
def arm64_base_image(engine: str) -> str:
    """The offline test base for linux/arm64, built once per machine by
    scripts/test-base-image.sh (scripts/dev builds it with the tests' setup). Its programs run
    under QEMU user emulation: without the kernel's binfmt handler for arm64 the tests that
    take it are skipped (a failure with REQUIRE_DOCKER=1, as in CI)."""
    handler = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
    if not (handler.exists() and handler.read_text().startswith("enabled")):
        reason = "no QEMU emulation of arm64 here (binfmt_misc has no enabled qemu-aarch64)"
        if os.environ.get("REQUIRE_DOCKER") == "1":
            pytest.fail(f"{reason}, and REQUIRE_DOCKER=1: run scripts/dev to set it up")
        pytest.skip(f"{reason}: run scripts/dev to set it up")
    subprocess.run(
        ["bash", str(REPO / "scripts" / "test-base-image.sh"), ARM64_TEST_BASE_IMAGE, "arm64"],
        check=True,
        env={**os.environ, "DOCKER": engine},
        stdout=subprocess.DEVNULL,
    )
    return ARM64_TEST_BASE_IMAGE


def conda_stand_in(base_image: str, image: str, extra_pythons: str = "") -> str:
    """``image``, built from the venv test base by the offline conda stand-in when missing."""
    if docker("image", "inspect", image, check=False).returncode != 0:
        subprocess.run(
            ["bash", str(CONDA_STANDIN), base_image, image],
            check=True,
            env={**os.environ, "DOCKER": DOCKER, "EXTRA_PYTHONS": extra_pythons},
            stdout=subprocess.DEVNULL,
        )
    return image


# The conda base under a name without "conda", "miniforge" or "mambaforge": the conda tests
# set no env-manager, so each shows that the manager is found in the image, not in its name.
NEUTRAL_CONDA_BASE = "pdp-team/ds-base:2024"


@pytest.fixture(scope="session")
def conda_base_image(base_image: str) -> str:
    """A real conda base (built once per machine), under a name that says nothing of conda."""
    docker("tag", conda_stand_in(base_image, CONDA_TEST_BASE_IMAGE), NEUTRAL_CONDA_BASE)
    return NEUTRAL_CONDA_BASE


@pytest.fixture(scope="session")
def conda_py38_base_image(base_image: str) -> str:
    """A conda base with Python 3.8 in its channel (and 3.11), built once per machine."""
    return conda_stand_in(base_image, CONDA_PY38_TEST_BASE_IMAGE, "3.8")


@dataclass(frozen=True)
class Base:
    """A base image and the settings that build on it with one environment manager."""

    manager: str
    image: str
    slim: bool = True  # conda: the environment copied into a runtime stage

    @property
    def settings(self) -> dict[str, object]:
        """Keys for ``configure``: the stand-in's channel holds Python 3.11 and actdemo."""
        if self.manager == "venv":
            return {"base_image": self.image}
        return {
            "base_image": self.image,  # its name says nothing of conda: the probe finds it
            "env_manager": None,  # a fixture's own setting removed
            "python": "3.11",
            "conda_packages": ["actdemo"],
            # the runtime stage on the offline venv test base (debian:bookworm-slim offline)
            "runtime_base": TEST_BASE_IMAGE if self.slim else "base",
        }

    def prefix(self, project_name: str) -> str:
        """Where the image's environment lives (the stand-in keeps conda's in /opt/conda/envs)."""
        return "/opt/venv" if self.manager == "venv" else f"/opt/conda/envs/{project_name}"


@pytest.fixture(params=["venv", "conda"])
def base(request: pytest.FixtureRequest, engine: str) -> Base:
    """Each environment manager that can be built here, on its base image."""
    if request.param == "venv":
        return Base("venv", request.getfixturevalue("base_image"))
    return Base("conda", request.getfixturevalue("conda_base_image"))


@pytest.fixture
def image_tag() -> Iterator[str]:
    """A unique image name for one test; its images are removed afterwards."""
    name = f"pdp-test-{uuid.uuid4().hex[:10]}"
    yield f"{name}:test"
    images = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", name, check=False)
    for reference in images.stdout.split():
        docker("image", "rm", "--force", reference, check=False)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(ready: Callable[[], bool], what: str, log: Path, timeout: float = 60) -> None:
    """Polls ``ready`` until it holds; fails with the service's log after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not start within {timeout:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def require(program: str, package: str) -> str:
    """The path of ``program``; a skip without it (a failure with REQUIRE_DOCKER=1)."""
    path = shutil.which(program)
    if path is None:
        reason = f"{program} is not installed (Debian: apt-get install {package})"
        if os.environ.get("REQUIRE_DOCKER") == "1":
            pytest.fail(f"{reason}, and REQUIRE_DOCKER=1: run scripts/dev to set it up")
        pytest.skip(reason)
    return path


@dataclass(frozen=True)
class Registry:
    """A distribution registry on 127.0.0.1, which Docker engines use without TLS."""

    host: str  # 127.0.0.1:PORT

    def reference(self, name: str) -> str:
        return f"{self.host}/{name}"


@pytest.fixture(scope="session")
def registry(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Debian's docker-registry on a free port with its own storage, stopped at the end."""
    import urllib.request

    program = require("docker-registry", "docker-registry")
    directory = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = directory / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {directory / 'storage'}}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    log = directory / "registry.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [program, "serve", str(config)], stdout=output, stderr=subprocess.STDOUT
        )

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"docker-registry exited:\n{log.read_text()}")
            return False

    try:
        wait_for(answers, "docker-registry", log)
        yield Registry(f"127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass(frozen=True)
class SecondEngine:
    """A second dockerd: its own images, containers and socket, as a remote engine is."""

    socket: str  # unix:///...
    tcp: str  # tcp://127.0.0.1:PORT

    def docker(self, *arguments: str, check: bool = True) -> Result:
        completed = subprocess.run(
            [DOCKER, *arguments],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "DOCKER_HOST": self.socket, "DOCKER_BUILDKIT": "1"},
        )
        result = Result(completed.returncode, completed.stdout, completed.stderr)
        if check and completed.returncode != 0:
            raise AssertionError(f"docker {' '.join(arguments)} failed:\n{result.output}")
        return result


@pytest.fixture(scope="session")
def second_engine(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecondEngine]:
    """A second dockerd with its own data root, exec root, socket and bridge, stopped and
    removed at the end. It never touches the first engine: no iptables rules, and a bridge of
    its own (``--bridge none`` would delete the first engine's docker0)."""
    import signal
    import tempfile

    program = require("dockerd", "docker.io")
    # The exec root holds containerd's sockets, whose paths must stay short.
    directory = Path(tempfile.mkdtemp(prefix="pdp-engine-", dir="/tmp"))
    bridge = f"pdpbr{os.getpid() % 100000}"
    subnet = f"172.29.{os.getpid() % 200 + 20}"
    ip = ["ip"]
    subprocess.run([*ip, "link", "add", bridge, "type", "bridge"], check=True)
    subprocess.run([*ip, "addr", "add", f"{subnet}.1/24", "dev", bridge], check=True)
    subprocess.run([*ip, "link", "set", bridge, "up"], check=True)
    socket_path = directory / "docker.sock"
    port = free_port()
    log = directory / "dockerd.log"
    with log.open("w") as output:
        command = [
            program,
            "--data-root", str(directory / "data"),
            "--exec-root", str(directory / "exec"),
            "--pidfile", str(directory / "dockerd.pid"),
            "-H", f"unix://{socket_path}",
            "-H", f"tcp://127.0.0.1:{port}",
            "--bridge", bridge,
            "--iptables=false",
            "--ip-masq=false",
        ]  # fmt: skip
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    second = SecondEngine(f"unix://{socket_path}", f"tcp://127.0.0.1:{port}")

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the second dockerd exited:\n{log.read_text()[-3000:]}")
        return second.docker("version", check=False).returncode == 0

    try:
        wait_for(answers, "the second dockerd", log, timeout=120)
        yield second
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        subprocess.run([*ip, "link", "del", bridge], check=False)
        subprocess.run(["umount", "-R", str(directory)], check=False, capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


def plan_from_poetry(
    poetry: Poetry,
    settings: Settings,
    groups: Iterable[str],
    *,
    platform: str | None = None,
    probe_base: BaseProbe | None = None,
    editable: bool = False,
    host_user: HostUser | None = None,
    tags: tuple[str, ...] = (),
) -> BuildPlan:
    """The plan of a project on disk, made as the builder makes it: the project's facts and its
    lock read once, then ``make_plan`` from those values."""
    from poetry_docker_plugin.lock.read import read_lock
    from poetry_docker_plugin.plan.decide import make_plan
    from poetry_docker_plugin.platforms import Platform, host_platform
    from poetry_docker_plugin.project.facts import ProjectFacts

    return make_plan(
        ProjectFacts.read(poetry),
        read_lock(poetry, groups, settings.extras),
        settings,
        platform=Platform.parse(platform) if platform else host_platform(),
        tags=tags,
        probe_base=probe_base,
        editable=editable,
        host_user=host_user,
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ``docker`` marker means exactly "needs an engine": it is given to every test that
    takes the ``engine`` fixture (directly or through another fixture), and to no other. The
    tree says the same: tests/engine/ holds those tests, tests/unit/ the others (fast, from
    values and the Poetry command line), and tests/install/ those that install the plugin into
    a Poetry of their own (slow, from the index: marked ``install``)."""
    misplaced = []
    for item in items:
        needs_engine = "engine" in getattr(item, "fixturenames", ())
        if needs_engine:
            item.add_marker(pytest.mark.docker)
        # tests/unit/ mirrors the package (tests/unit/engine/ is the engine package's unit
        # tests): the kind of test is the folder right under tests/.
        folder = item.path.relative_to(Path(__file__).parent).parts[0]
        if folder == "install":
            item.add_marker(pytest.mark.install)
        if (folder == "unit" and needs_engine) or (folder == "engine" and not needs_engine):
            misplaced.append(item.nodeid)
    if misplaced:
        raise pytest.UsageError(
            "tests/unit/ is for tests without an engine and tests/engine/ for tests with one: "
            f"move {', '.join(misplaced)}"
        )


def add_secrets(project: Path) -> None:
    """What a real project directory holds beside its code."""
    (project / ".env").write_text("API_TOKEN=hunter2\n")
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text("[credential]\n")
    (project / "secrets").mkdir()
    (project / "secrets" / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (project / "myenv").mkdir()
    (project / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (project / "myenv" / "lib.py").write_text("x = 1\n")
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")


DOCKERIGNORE = """\
# data stays on the host
data/
*.csv
!keep.csv
**/fixtures
/notes.txt
"""

# Credentials and histories that no image needs, whatever .dockerignore says.
CREDENTIALS = (
    ".npmrc",
    ".yarnrc.yml",
    "cert.p12",
    "store.pfx",
    "app.jks",
    "release.keystore",
    ".bash_history",
    ".zsh_history",
    ".python_history",
    "sub/.python_history",
    "credentials.json",
)


# What is left of a no-package project with the files of add_dockerignored.
KEPT = [
    "credentials.py",
    "keep.csv",
    "main.py",
    "poetry.lock",
    "pyproject.toml",
    "sub/notes.txt",
    "sub/rows.csv",
    "tests/test_main.py",
]


def add_dockerignored(project: Path) -> None:
    """A .dockerignore (data, CSV files but one, fixtures, a root file) and credentials."""
    (project / ".dockerignore").write_text(DOCKERIGNORE)
    files = {
        "data/big.bin": "\0" * 4096,
        "data/keep.csv": "in an excluded folder\n",
        "rows.csv": "a,b\n",
        "keep.csv": "kept,by,an,exception\n",
        "sub/rows.csv": "*.csv is *.csv at the root only\n",
        "notes.txt": "/notes.txt is the root's\n",
        "sub/notes.txt": "kept\n",
        "fixtures/a.json": "{}\n",
        "tests/fixtures/b.json": "{}\n",
        "tests/test_main.py": "def test() -> None: ...\n",
        "credentials.py": "TOKEN_ENV = 'API_TOKEN'\n",
        **dict.fromkeys(CREDENTIALS, "secret\n"),
    }
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)


def git_init(project: Path, *ignored: str) -> None:
    """Makes ``project`` a git work tree with every file tracked but the ``ignored`` ones."""
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".git" / "info" / "exclude").write_text("".join(f"{i}\n" for i in ignored))
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)


# Locks written by Poetry 1.x (tests/unit/lock/test_lock_versions.py says how).
@dataclass(frozen=True)
class OldLock:
    directory: str
    lock_version: str
    written_by: str  # the first line of the lock; Poetry 1.1 wrote none
    project: str
    version: str
    module: str


LOCK_1_1 = OldLock("lock-1.1", "1.1", "[[package]]", "lockv11-app", "0.1.1", "lockv11_app")


LOCK_2_0 = OldLock(
    "lock-2.0",
    "2.0",
    "# This file is automatically @generated by Poetry 1.8.5 and should not be changed by hand.",
    "lockv20-app",
    "0.2.0",
    "lockv20_app",
)


OLD_LOCKS = [pytest.param(f, id=f.directory) for f in (LOCK_1_1, LOCK_2_0)]


OLD_LOCK_MAIN = ("attrs", "six")


OLD_LOCK_DEV = ("iniconfig",)
