"""Under faults (issue 24): never a wrong tag, never a stuck state, every error says where.

Each test brings a fault about for real (two builds racing for one tag, a process killed with
SIGKILL, a cache folder that is read-only or a file, a full disk, an engine that goes away)
and checks what a user would: the reference printed runs the project's own code, a later call
works and leaves nothing behind, the error names the file and what was being done. Races are
set up by gates, not by sleeps: a wrapper around the docker client holds ``docker build``
until the test lets it go, and the test waits for observable events (a file appearing, a
message printed, a process stopped).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import POETRY, REPO, configure, copy_fixture, docker, run_poetry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tests.conftest import Registry

# A poetry process that stops itself (SIGSTOP) when the plugin starts writing the build
# context (tests/hosts/hold_staging.py): the test then kills it there, in mid-staging.
HELD_POETRY = [
    sys.executable,
    "-c",
    f"import sys, runpy; sys.path.insert(0, {str(REPO / 'tests' / 'hosts')!r}); "
    f"import hold_staging; sys.argv = [{POETRY!r}, *sys.argv[1:]]; "
    f"runpy.run_path({POETRY!r}, run_name='__main__')",
]


@dataclass(frozen=True)
class GatedEngine:
    """A docker client whose ``build`` waits for ``gate/go`` (after touching
    ``gate/started-PID``), and that logs every call."""

    path: Path
    gate: Path
    log: Path

    def started(self) -> list[Path]:
        return sorted(self.gate.glob("started-*"))

    def open(self) -> None:
        (self.gate / "go").touch()

    def builds(self) -> list[str]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [line for line in lines if line.startswith("build ")]


def wrapper(tmp_path: Path, name: str, engine: str, on_build: str) -> Path:
    """A docker client script that runs ``on_build`` (shell) before a ``build`` goes on."""
    log = tmp_path / f"{name}.log"
    path = tmp_path / name
    path.write_text(
        f'#!/bin/sh\necho "$*" >> {log}\nif [ "$1" = build ]; then\n{on_build}\nfi\n'
        f'exec {engine} "$@"\n'
    )
    path.chmod(0o755)
    return path


@pytest.fixture
def gated_engine(tmp_path: Path, engine: str) -> GatedEngine:
    gate = tmp_path / "gate"
    gate.mkdir()
    hold = f"touch {gate}/started-$$\nwhile [ ! -e {gate}/go ]; do sleep 0.1; done"
    path = wrapper(tmp_path, "docker-gated", engine, hold)
    return GatedEngine(path, gate, tmp_path / "docker-gated.log")


def until(condition: Callable[[], bool], what: str, processes: list[subprocess.Popen[str]]) -> None:
    """Waits for ``condition`` (an event the processes bring about); fails when one of them
    exits first, or after five minutes on a machine busy beyond reason."""
    deadline = time.monotonic() + 300
    while not condition():
        for process in processes:
            if process.poll() is not None:
                pytest.fail(f"{what}: a process exited first ({process.returncode})")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within five minutes")
        time.sleep(0.05)


@dataclass
class Call:
    """A poetry command started in the background, its output in files."""

    process: subprocess.Popen[str]
    out: Path
    err: Path

    @property
    def stdout(self) -> str:
        return self.out.read_text()

    @property
    def stderr(self) -> str:
        return self.err.read_text()

    def wait(self) -> int:
        return self.process.wait(timeout=900)


def start(
    project: Path, *arguments: str, env: dict[str, str], name: str, poetry: list[str] | None = None
) -> Call:
    out, err = project.parent / f"{name}.out", project.parent / f"{name}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [*(poetry or [POETRY]), "--no-ansi", *arguments],
            cwd=project,
            env={**os.environ, **env},
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # its own process group: killed with its docker client
        )
    return Call(process, out, err)


def say_hello_as(project: Path, who: str) -> None:
    module = project / "hello_app" / "cli.py"
    module.write_text(module.read_text().replace("hello from", f"{who} says hello from"))


def hello(reference: str) -> str:
    return docker("run", "--rm", reference, "hello").stdout


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mounts small tmpfs file systems (as root), unmounted afterwards."""
    mounted: list[Path] = []

    def mount(
        name: str, *, size: str = "64k", read_only: bool = False, full: bool = False, spare: int = 0
    ) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        completed = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {completed.stderr.strip()}")
        mounted.append(folder)
        if full:
            descriptor = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
            try:
                with pytest.raises(OSError, match="No space"):
                    while True:
                        os.write(descriptor, b"\0" * 4096)
                # Room for Python's check that the folder is writable (tempfile writes a few
                # bytes in it, and takes another folder when that fails), not for much more.
                os.ftruncate(descriptor, os.fstat(descriptor).st_size - spare)
            finally:
                os.close(descriptor)
        return folder

    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", str(folder)], check=False)


def test_two_copies_with_one_image_name_never_print_a_tag_of_the_other(
    tmp_path: Path, base_image: str, project_image: str, gated_engine: GatedEngine
) -> None:
    """Both builds are held at ``docker build`` until both have started, so they overlap for
    sure; then each reference printed runs its own copy's code, and the build that lost the
    tag fails, naming the tag and its own image (which runs its own code too)."""
    calls = {}
    for who in ("alpha", "beta"):
        project = copy_fixture("flat-script", tmp_path / who)
        configure(project, image=project_image, base_image=base_image)
        say_hello_as(project, who)
        env = {"POETRY_DOCKER_ENGINE": str(gated_engine.path)}
        calls[who] = start(project, "docker", "build", "-q", env=env, name=who)
    processes = [call.process for call in calls.values()]
    until(lambda: len(gated_engine.started()) == 2, "both builds started", processes)
    gated_engine.open()
    codes = {who: call.wait() for who, call in calls.items()}

    assert sorted(codes.values()) == [0, 1], {w: c.stderr[-2000:] for w, c in calls.items()}
    for who, call in calls.items():
        assert "Traceback" not in call.stderr
        if codes[who] == 0:
            reference = call.stdout.strip()
            assert reference == f"{project_image}:0.3.1"
            assert f"{who} says hello" in hello(reference)
        else:
            assert call.stdout == ""
            assert f"Another build moved the tags {project_image}:0.3.1" in call.stderr
            own = re.search(r"This build's image is (sha256:[0-9a-f]{64})", call.stderr)
            assert own, call.stderr
            assert f"{who} says hello" in hello(own.group(1))


def test_four_runs_after_an_edit_build_once_and_all_run_the_new_image(
    tmp_path: Path, base_image: str, project_image: str, gated_engine: GatedEngine
) -> None:
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=project_image, base_image=base_image)
    built = run_poetry(project, "docker", "build", "-q")
    assert built.returncode == 0, built.output
    say_hello_as(project, "edited")

    env = {"POETRY_DOCKER_ENGINE": str(gated_engine.path)}
    calls = [
        start(project, "docker", "run", "--", "hello", env=env, name=f"run{i}") for i in range(4)
    ]
    processes = [call.process for call in calls]

    def one_builds_three_wait() -> bool:
        waiting = sum("Waiting for another build" in call.stderr for call in calls)
        return len(gated_engine.started()) == 1 and waiting == 3

    until(one_builds_three_wait, "one build held, three runs waiting for it", processes)
    gated_engine.open()
    for call in calls:
        assert call.wait() == 0, call.stderr[-2000:]
        assert "edited says hello" in call.stdout
    assert len(gated_engine.builds()) == 1, gated_engine.builds()


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def stopped(pid: int) -> bool:
    """Whether the process is stopped (SIGSTOP), as /proc says."""
    status = Path(f"/proc/{pid}/stat").read_text()
    return status.rsplit(")", 1)[1].split()[0] == "T"


def test_killed_builds_leave_nothing_once_the_next_call_ran(
    tmp_path: Path, base_image: str, project_image: str, gated_engine: GatedEngine
) -> None:
    """SIGKILL while the context is staged, then while the engine builds: a later normal
    build removes what they left in the temporary folder (a private one, here)."""
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=project_image, base_image=base_image)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"TMPDIR": str(temp), "POETRY_DOCKER_ENGINE": str(gated_engine.path)}

    staging = start(project, "docker", "build", env=env, name="staging", poetry=HELD_POETRY)
    until(lambda: stopped(staging.process.pid), "the build stopped in staging", [])
    os.killpg(staging.process.pid, signal.SIGKILL)
    staging.wait()
    assert any(name.startswith("poetry-docker-context-") for name in leftovers(temp))

    building = start(project, "docker", "build", env=env, name="building")
    until(lambda: bool(gated_engine.started()), "the engine's build started", [building.process])
    os.killpg(building.process.pid, signal.SIGKILL)
    building.wait()
    assert any(name.startswith("poetry-docker-iid-") for name in leftovers(temp))

    gated_engine.open()
    again = run_poetry(project, "docker", "build", "-q", env=env)
    assert again.returncode == 0, again.output
    assert leftovers(temp) == []


def test_a_killed_docker_build_is_not_called_a_failed_step(
    tmp_path: Path, engine: str, base_image: str, project_image: str
) -> None:
    killed = wrapper(tmp_path, "docker-killed", engine, "kill -9 $$")
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=project_image, base_image=base_image)
    result = run_poetry(project, "docker", "build", "-q", env={"POETRY_DOCKER_ENGINE": str(killed)})
    assert result.returncode == 128 + signal.SIGKILL, result.output
    assert "killed by SIGKILL" in result.stderr
    assert "says which step failed" not in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("kind", ["read-only", "a file", "full"])
def test_a_cache_folder_that_cannot_be_written_costs_only_the_cache(
    tmp_path: Path, base_image: str, project_image: str, tmpfs: Callable[..., Path], kind: str
) -> None:
    if kind == "read-only":
        cache = tmpfs("cache", read_only=True)
    elif kind == "a file":
        cache = tmp_path / "cache"
        cache.write_text("not a folder\n")
    else:
        cache = tmpfs("cache", size="64k", full=True)
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=project_image, base_image=base_image)
    env = {"POETRY_CACHE_DIR": str(cache)}
    for _ in range(2):
        result = run_poetry(project, "-q", "docker", "build", env=env)
        assert result.returncode == 0, result.output
        assert result.stdout == f"{project_image}:0.3.1\n"
        assert "Traceback" not in result.stderr
        if kind != "full":
            assert result.stderr.count("Warning:") == 1, result.stderr
            assert f"{cache}/docker-plugin cannot be written" in result.stderr
    if kind == "full":
        plugin = cache / "docker-plugin"
        names = [p.name for p in plugin.rglob("*")]
        assert not [n for n in names if n.endswith((".tmp", ".lock"))], names


def rewrite(path: Path, change: Callable[[object], object]) -> None:
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


def test_damaged_caches_are_dropped_and_rewritten(
    tmp_path: Path, base_image: str, project_image: str
) -> None:
    """Valid JSON of the wrong shape in every cache file, then a wrong fact (Python 3.9 for a
    base that has 3.11) under the base's true id: every call works, as without the cache."""
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=project_image, base_image=base_image)
    cache = tmp_path / "cache"
    env = {"POETRY_CACHE_DIR": str(cache)}
    assert run_poetry(project, "docker", "build", env=env).returncode == 0
    plugin = cache / "docker-plugin"
    bases = sorted(plugin.glob("base-images*.json"))
    records = sorted((plugin / "projects").glob("*.json"))
    assert bases and len(records) == 2, sorted(plugin.rglob("*"))

    def wrong_types(value: object) -> object:
        if isinstance(value, dict):
            return {key: wrong_types(item) for key, item in value.items()}
        if isinstance(value, list):
            return [] if all(isinstance(i, str) for i in value) else [wrong_types(i) for i in value]
        return 7 if isinstance(value, str) else "7"

    for path in bases:
        path.write_text("[]")
    for path in records:
        rewrite(path, wrong_types)
    for _ in range(2):
        again = run_poetry(project, "docker", "build", env=env)
        assert again.returncode == 0, again.output
        assert again.stdout == f"{project_image}:0.3.1\n" and "is up to date" in again.stderr
    for path in sorted(plugin.glob("base-images*.json")):
        assert isinstance(json.loads(path.read_text()), dict)

    for path in sorted(plugin.glob("base-images*.json")):
        path.write_text(path.read_text().replace('"3.11"', '"3.9"'))
    printed = run_poetry(project, "docker", "build", "--print", env=env)
    assert printed.returncode == 0, printed.output
    assert "with Python 3.11 (venv)" in printed.stdout
    assert any('"3.11"' in path.read_text() for path in plugin.glob("base-images*.json"))


def test_a_full_temporary_folder_says_where_and_leaves_nothing(
    tmp_path: Path, base_image: str, project_image: str, tmpfs: Callable[..., Path]
) -> None:
    temp = tmpfs("tmp", size="64k", full=True, spare=8192)
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=project_image, base_image=base_image)
    for verbosity in ("-q", "-v"):
        result = run_poetry(project, verbosity, "docker", "build", env={"TMPDIR": str(temp)})
        assert result.returncode == 1, result.output
        assert "No space left on device" in result.stderr
        assert "stage the build context" in result.stderr and str(temp) in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
        assert leftovers(temp) == ["filler"]


def test_push_faults_name_the_tag_and_what_went_through(
    tmp_path: Path,
    engine: str,
    base_image: str,
    registry: Registry,
    tmpfs: Callable[..., Path],
) -> None:
    image = registry.reference(f"faults-{os.getpid()}")
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=image, base_image=base_image)
    full = tmpfs("out", size="64k", full=True, spare=0)
    digest_file = full / "image.digest"
    try:
        pushed = run_poetry(project, "docker", "build", "--push", "--digest-file", str(digest_file))
        assert pushed.returncode == 1, pushed.output
        assert f"write the --digest-file file {digest_file}" in pushed.stderr
        assert "No space left on device" in pushed.stderr
        assert f"The push of {image}:0.3.1, {image}:latest went through, as {image}@sha256:" in (
            pushed.stderr
        )
        assert "Traceback" not in pushed.stderr and pushed.stdout == ""
        assert leftovers(full) == ["filler"]

        # The engine goes away as the push starts: the client's push fails, and so does every
        # later question to the engine.
        # (``version`` answers until then: the plan asks it for the engine's platform.)
        gone, went = tmp_path / "docker-gone", tmp_path / "went"
        refuse = 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2'
        gone.write_text(
            f'#!/bin/sh\ncase "$1" in push) touch {went}; {refuse}; exit 1;;\n'
            f"version) if [ -e {went} ]; then {refuse}; exit 1; fi;; esac\n"
            f'exec {engine} "$@"\n'
        )
        gone.chmod(0o755)
        failed = run_poetry(
            project, "docker", "build", "--push", env={"POETRY_DOCKER_ENGINE": str(gone)}
        )
        assert failed.returncode == 1, failed.output
        assert f"Pushing {image}:0.3.1 failed" in failed.stderr
        assert "Docker engine is not reachable" in failed.stderr
    finally:
        for tag in ("0.3.1", "latest"):
            docker("image", "rm", f"{image}:{tag}", check=False)
