"""``poetry docker run`` through the real Poetry command line, against a real engine."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import (
    DOCKER,
    POETRY,
    Base,
    LoggingEngine,
    configure,
    copy_fixture,
    docker,
    run_poetry,
)


@pytest.fixture
def hello(tmp_path: Path, base: Base, project_image: str) -> Path:
    """A copy of the flat-script fixture under its own name, on each manager's base image."""
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=project_image, **base.settings)
    return project


def run(
    project: Path, *arguments: str, input: str | None = None, engine: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"POETRY_DOCKER_ENGINE": engine or DOCKER}
    return subprocess.run(
        [POETRY, "--no-ansi", "docker", "run", *arguments],
        cwd=project,
        env={**os.environ, **env},
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def image_id(reference: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", reference).stdout.strip()


def layers(reference: str) -> list[str]:
    return list(
        json.loads(
            docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", reference).stdout
        )
    )


def test_default_command(hello: Path, project_image: str) -> None:
    result = run(hello)
    assert result.returncode == 0, result.stderr
    assert "hello from hello-app" in result.stdout
    assert result.stdout.rstrip().endswith("args:")


def test_command_with_spaces_and_quotes(hello: Path) -> None:
    script = "import sys, json; print(json.dumps(sys.argv[1:]))"
    result = run(hello, "--", "python", "-c", script, "a b", 'it\'s "quoted"', "$HOME", "")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == ["a b", 'it\'s "quoted"', "$HOME", ""]


@pytest.mark.parametrize("code", [0, 1, 42])
def test_exit_codes_come_back(hello: Path, code: int) -> None:
    result = run(hello, "--", "python", "-c", f"import sys; sys.exit({code})")
    assert result.returncode == code, result.stderr


def test_stdin_is_passed_in(hello: Path) -> None:
    result = run(
        hello,
        "--",
        "python",
        "-c",
        "import sys; print(sys.stdin.read().upper())",
        input="piped text\n",
    )
    assert result.returncode == 0, result.stderr
    assert "PIPED TEXT" in result.stdout


def test_environment_is_active_and_options_pass_through(hello: Path, base: Base) -> None:
    prefix = 'python -c "import sys; print(sys.prefix)"'
    result = run(
        hello, "-e", "GREETING=hi there", "--", "sh", "-c", f'echo "$({prefix})|$GREETING|$(id -u)"'
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"{base.prefix('hello-app')}|hi there|10001"


def test_no_rebuild_without_a_change_and_a_cheap_one_after_an_edit(
    hello: Path, project_image: str, logging_engine: LoggingEngine
) -> None:
    engine = str(logging_engine.path)
    assert run(hello, "--", "true", engine=engine).returncode == 0
    assert len(logging_engine.builds()) == 1
    first = image_id(f"{project_image}:0.3.1")

    again = run(hello, "--", "true", engine=engine)
    assert again.returncode == 0, again.stderr
    assert len(logging_engine.builds()) == 1, "nothing changed: the engine's build is never called"
    assert image_id(f"{project_image}:0.3.1") == first

    cli = hello / "hello_app" / "cli.py"
    cli.write_text(cli.read_text().replace("hello from hello-app", "hello again from hello-app"))
    edited = run(hello, engine=engine)
    assert edited.returncode == 0, edited.stderr
    assert "hello again from hello-app" in edited.stdout
    assert len(logging_engine.builds()) == 2
    # base, environment, entrypoint, user and dependency layers are reused: only the
    # project's layer, the last one, differs
    before, after = layers(first), layers(f"{project_image}:0.3.1")
    assert len(before) == len(after)
    changed = [i for i, (old, new) in enumerate(zip(before, after, strict=True)) if old != new]
    assert changed == [len(after) - 1]


def test_no_build_refuses_missing_and_stale_images(hello: Path) -> None:
    missing = run(hello, "--no-build")
    assert missing.returncode == 1
    assert "does not exist and --no-build forbids building it" in missing.stderr
    assert run(hello, "--", "true").returncode == 0
    assert run(hello, "--no-build", "--", "true").returncode == 0
    (hello / "hello_app" / "extra.py").write_text("X = 1\n")
    stale = run(hello, "--no-build")
    assert stale.returncode == 1
    assert "is out of date with the project" in stale.stderr


def test_ctrl_c_stops_the_container(hello: Path, project_image: str) -> None:
    assert run(hello, "--", "true").returncode == 0
    process = subprocess.Popen(
        [POETRY, "--no-ansi", "docker", "run", "--", "sleep", "300"],
        cwd=hello,
        env={**os.environ, "POETRY_DOCKER_ENGINE": DOCKER},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    label = f"label=dev.poetry-docker.image={project_image}:0.3.1"
    try:
        deadline = time.monotonic() + 60
        while not docker("ps", "--quiet", "--filter", label).stdout.strip():
            assert time.monotonic() < deadline, "the container never started"
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert returncode == 130
    assert docker("ps", "--all", "--quiet", "--filter", label).stdout.strip() == ""


def test_build_options_reach_the_image(hello: Path) -> None:
    result = run_poetry(hello, "docker", "run", "--python", "3.11", "--", "python", "--version")
    assert result.returncode == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("Python 3.11")


@pytest.fixture
def hello_venv(tmp_path: Path, base_image: str, project_image: str) -> Path:
    """The flat-script fixture on the venv base only: for options, not environments."""
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=project_image, base_image=base_image)
    return project


def test_publish_replaces_the_ports_setting(
    hello_venv: Path, logging_engine: LoggingEngine
) -> None:
    """A second run beside a server must be able to choose its own ports."""
    configure(hello_venv, ports=[8000])
    engine = str(logging_engine.path)
    assert run(hello_venv, "--", "true", engine=engine).returncode == 0
    assert run(hello_venv, "-p", "18001:8000", "--", "true", engine=engine).returncode == 0
    runs = [call for call in logging_engine.calls() if call.startswith("run ")]
    assert "--publish 8000:8000" in runs[0]
    assert "--publish 18001:8000" in runs[1] and "8000:8000" not in runs[1]


def test_volumes_relative_and_the_v_mistake(hello_venv: Path) -> None:
    (hello_venv / "data").mkdir()
    (hello_venv / "data" / "note.txt").write_text("mounted\n")
    mounted = run(hello_venv, "--volume", "./data:/mnt/data", "--", "cat", "/mnt/data/note.txt")
    assert mounted.returncode == 0, mounted.stderr
    assert mounted.stdout.splitlines()[-1] == "mounted"
    mistaken = run(hello_venv, "-v", "./data:/mnt/data")
    assert mistaken.returncode == 1
    assert "Write --volume ./data:/mnt/data instead" in mistaken.stderr


@pytest.fixture(scope="module")
def built_hello(
    base_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    """The flat-script fixture on the venv base, built once for the tests of options and
    signals below (none of which changes its inputs)."""
    project = copy_fixture("flat-script", tmp_path_factory.mktemp("run-options"))
    name = f"pdp-test-{uuid.uuid4().hex[:10]}"
    configure(project, image=name, base_image=base_image)
    built = run_poetry(project, "docker", "build")
    assert built.returncode == 0, built.output
    yield project, f"{name}:0.3.1"
    images = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", name, check=False)
    for reference in images.stdout.split():
        docker("image", "rm", "--force", reference, check=False)


def container_runs(engine: LoggingEngine) -> list[str]:
    """The engine's ``run`` calls that start the project's container (not base probes)."""
    return [call for call in engine.calls() if call.startswith("run --name ")]


def test_rebuild_forces_a_build(
    built_hello: tuple[Path, str], logging_engine: LoggingEngine
) -> None:
    project, _ = built_hello
    engine = str(logging_engine.path)
    current = run(project, "--", "true", engine=engine)
    assert current.returncode == 0, current.stderr
    assert logging_engine.builds() == [], "the image is current: no build"
    forced = run(project, "--rebuild", "--", "true", engine=engine)
    assert forced.returncode == 0, forced.stderr
    assert len(logging_engine.builds()) == 1, "--rebuild builds although nothing changed"


class Started:
    """``poetry docker run`` in the background, its stdout read line by line."""

    def __init__(self, project: Path, *arguments: str, stderr: Path) -> None:
        self.stderr = stderr
        with stderr.open("w") as errors:
            self.process = subprocess.Popen(
                [POETRY, "--no-ansi", "docker", "run", *arguments],
                cwd=project,
                env={**os.environ, "POETRY_DOCKER_ENGINE": DOCKER},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, line: str, timeout: float = 120) -> None:
        """Waits until the command prints ``line``; fails if it ends or times out first."""
        deadline = time.monotonic() + timeout
        while line not in self.seen:
            try:
                got = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                pytest.fail(f"{line!r} never came; stdout: {self.seen}")
            if got is None:
                pytest.fail(f"ended before {line!r}: {self.seen}\n{self.stderr.read_text()}")
            self.seen.append(got)

    def rest(self) -> list[str]:
        """Every line after the command has ended."""
        while (got := self.lines.get(timeout=30)) is not None:
            self.seen.append(got)
        return self.seen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def project_containers(project_image: str) -> list[str]:
    label = f"label=dev.poetry-docker.image={project_image}"
    return docker("ps", "--all", "--quiet", "--filter", label).stdout.split()


def remove_containers(project_image: str) -> None:
    for container in project_containers(project_image):
        docker("rm", "--force", container, check=False)


def test_name_names_the_container(built_hello: tuple[Path, str], tmp_path: Path) -> None:
    project, _ = built_hello
    name = f"pdp-named-{uuid.uuid4().hex[:8]}"
    started = Started(
        project, "--name", name, "--", "sh", "-c", "echo up; sleep 3", stderr=tmp_path / "err"
    )
    try:
        started.wait_for("up")
        names = docker("ps", "--format", "{{.Names}}").stdout.split()
        assert name in names, f"docker ps shows the container as {name}"
        assert started.process.wait(timeout=60) == 0
    finally:
        started.stop()
        docker("rm", "--force", name, check=False)
    assert name not in docker("ps", "--all", "--format", "{{.Names}}").stdout.split()


def test_gpus_reach_docker_run_and_its_exit_code_comes_back(
    built_hello: tuple[Path, str], logging_engine: LoggingEngine
) -> None:
    """Without GPUs (or their runtime) the engine refuses: its exit code is the command's."""
    project, image = built_hello
    result = run(project, "--gpus", "all", "--", "true", engine=str(logging_engine.path))
    [call] = container_runs(logging_engine)
    assert " --gpus all " in call
    direct = docker("run", "--rm", "--gpus", "all", image, "true", check=False)
    assert result.returncode == direct.returncode, result.stderr
    assert "Traceback" not in result.stderr


# Traps SIGTERM and SIGHUP: says which came and exits 42.
TRAP = """
import signal, sys, time
def stop(signum, frame):
    print("got " + signal.Signals(signum).name, flush=True)
    sys.exit(42)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGHUP, stop)
print("ready", flush=True)
time.sleep(300)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_reach_the_command(
    built_hello: tuple[Path, str], tmp_path: Path, signum: signal.Signals
) -> None:
    project, image = built_hello
    started = Started(project, "--", "python", "-c", TRAP, stderr=tmp_path / "err")
    try:
        started.wait_for("ready")
        started.process.send_signal(signum)
        returncode = started.process.wait(timeout=30)
    finally:
        started.stop()
        leftover = project_containers(image)
        remove_containers(image)
    assert started.rest()[-1] == f"got {signum.name}", "the command in the container saw it"
    assert returncode == 42, "the command's exit code comes back"
    assert leftover == [], "the container is removed"


def test_a_command_that_ignores_sigterm_is_removed_after_10_seconds(
    built_hello: tuple[Path, str], tmp_path: Path
) -> None:
    project, image = built_hello
    command = "trap '' TERM; echo ready; sleep 300"
    started = Started(project, "--", "sh", "-c", command, stderr=tmp_path / "err")
    try:
        started.wait_for("ready")
        started.process.send_signal(signal.SIGTERM)
        begin = time.monotonic()
        returncode = started.process.wait(timeout=30)
        elapsed = time.monotonic() - begin
    finally:
        started.stop()
        leftover = project_containers(image)
        remove_containers(image)
    assert returncode != 0
    assert 9 < elapsed < 15, f"given 10 s to stop, then removed: it took {elapsed:.1f} s"
    assert leftover == [], "no container is left behind"


def test_a_container_out_of_memory_is_said(base_image: str) -> None:
    """Issue 29, item 8: exit 137 came with no word; the engine's OOM event is read after the
    container is gone (run with --rm, as `poetry docker run` runs it)."""
    from poetry_docker_plugin.engine.client import Engine
    from poetry_docker_plugin.engine.run import run_container
    from poetry_docker_plugin.errors import DockerPluginError

    name = f"pdp-oom-{uuid.uuid4().hex[:8]}"
    limits = ["--memory", "16m", "--memory-swap", "16m"]
    hog = ["python3", "-c", "x = ' ' * 200_000_000"]
    with pytest.raises(DockerPluginError) as killed:
        run_container(Engine(DOCKER), ["--rm", *limits, base_image, *hog], name)
    assert killed.value.exit_code == 137
    assert "ran out of memory (OOM)" in str(killed.value)
