"""``poetry docker shell``: the development image, the live working tree, a real terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import time
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
def extras(tmp_path: Path, base: Base, project_image: str) -> Path:
    """A copy of the groups-extras fixture (a dev group) under its own name, on each base."""
    project = copy_fixture("groups-extras", tmp_path)
    configure(project, image=project_image, **base.settings)
    return project


def shell(project: Path, command: str, engine: str = DOCKER) -> tuple[int, str]:
    result = run_poetry(
        project, "docker", "shell", "-c", command, env={"POETRY_DOCKER_ENGINE": engine}
    )
    return result.returncode, result.output


def test_development_group_is_installed(extras: Path) -> None:
    code, output = shell(extras, "python -c 'import iniconfig; print(\"dev group ok\")'")
    assert code == 0, output
    assert "dev group ok" in output
    runtime = run_poetry(extras, "docker", "run", "--", "python", "-c", "import iniconfig")
    assert runtime.returncode == 1, "the runtime image has no development group"


def test_the_development_image_is_tagged_dev(
    tmp_path: Path, base_image: str, project_image: str
) -> None:
    project = copy_fixture("groups-extras", tmp_path)
    configure(project, image=project_image, base_image=base_image)
    code, output = shell(project, "true")
    assert code == 0, output
    development = f"{project_image}:dev"
    tags = docker("image", "inspect", "--format", "{{json .RepoTags}}", development).stdout
    assert json.loads(tags) == [development], "tagged <name>:dev, and only that"
    check = "import iniconfig; print('dev group ok')"
    ran = docker("run", "--rm", development, "python", "-c", check)
    assert ran.stdout.strip() == "dev group ok", "the dev group is installed in it"


def test_edits_are_seen_without_a_rebuild(extras: Path, logging_engine: LoggingEngine) -> None:
    engine = str(logging_engine.path)
    code, output = shell(extras, "python -m extras_demo", engine)
    assert code == 0, output
    assert "six yes" in output
    assert len(logging_engine.builds()) == 1
    main = extras / "extras_demo" / "__main__.py"
    main.write_text(main.read_text() + 'print("edited on the host")\n')
    code, output = shell(extras, "python -m extras_demo", engine)
    assert code == 0, output
    assert "edited on the host" in output
    assert len(logging_engine.builds()) == 1, "an edit must not rebuild the development image"


def test_files_created_inside_belong_to_the_host_user(extras: Path) -> None:
    code, output = shell(extras, "touch created-inside.txt && id -u && exit 7")
    assert code == 7, output
    assert str(os.getuid()) in output.split()
    assert (extras / "created-inside.txt").stat().st_uid == os.getuid()
    assert (extras / "created-inside.txt").stat().st_gid == os.getgid()


def read_until(fd: int, needle: bytes, timeout: float = 300) -> bytes:
    """Reads the terminal until ``needle`` shows (or fails with what was seen)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, (
            f"{needle!r} never appeared; the terminal showed:\n{seen.decode(errors='replace')}"
        )
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            assert chunk, f"the terminal closed; it showed:\n{seen.decode(errors='replace')}"
            seen += chunk
    return seen


def drain(fd: int) -> None:
    """Reads what the terminal shows, so that the child never blocks on a full buffer."""
    if select.select([fd], [], [], 0.2)[0]:
        try:
            os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            time.sleep(0.1)


def test_interactive_shell_in_a_real_terminal(extras: Path, base: Base) -> None:
    assert shell(extras, "true")[0] == 0, "build the development image first"
    pid, fd = pty.fork()
    if pid == 0:  # the child: poetry on the pseudo-terminal
        os.chdir(extras)
        os.environ["POETRY_DOCKER_ENGINE"] = DOCKER
        os.execv(POETRY, [POETRY, "docker", "shell"])
    try:
        read_until(fd, b"$ " if os.getuid() else b"# ")
        os.write(fd, b"python -c 'import sys; print(\"PREFIX=\" + sys.prefix)'\n")
        read_until(fd, f"PREFIX={base.prefix('extras-demo')}".encode())
        if base.manager == "conda":  # activate.d ran in the interactive shell
            os.write(fd, b'echo "ACT=$ACTDEMO"\n')
            read_until(fd, b"ACT=1")
        os.write(fd, b"exit 3\n")
        deadline = time.monotonic() + 60
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            assert time.monotonic() < deadline, "the shell did not exit"
            drain(fd)
        assert os.waitstatus_to_exitcode(status) == 3
    finally:
        os.close(fd)


def test_a_project_path_with_a_colon(tmp_path: Path, base_image: str, project_image: str) -> None:
    """docker's --volume splits at ':'; the working tree is mounted with --mount."""
    project = copy_fixture("groups-extras", tmp_path / "team:project")
    configure(project, image=project_image, base_image=base_image)
    code, output = shell(project, "cat pyproject.toml | head -2")
    assert code == 0, output
    assert 'name = "extras-demo"' in output


def test_a_non_root_host_user_gets_a_name_and_a_home(base_image: str, project_image: str) -> None:
    """The shell of a host user (uid 4242, in the docker group) is theirs: a name, a home."""
    import grp
    import shutil
    import subprocess
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="pdp-hostuser-"))
    try:
        project = copy_fixture("groups-extras", shared)
        configure(project, image=project_image, base_image=base_image)
        subprocess.run(["chown", "-R", "4242:4242", str(shared)], check=True)
        docker_gid = grp.getgrnam("docker").gr_gid
        as_user = ["setpriv", "--reuid=4242", "--regid=4242", f"--groups={docker_gid}"]
        check = 'echo "$(id -un) $HOME $(id -u):$(id -g)"; touch "$HOME/x" created.txt'
        result = subprocess.run(
            [*as_user, POETRY, "--no-ansi", "docker", "shell", "-c", check],
            cwd=project,
            env={
                **os.environ,
                "HOME": str(shared),
                "USER": "ada",
                "LOGNAME": "ada",
                "POETRY_CACHE_DIR": str(shared / "cache"),
                "POETRY_DOCKER_ENGINE": DOCKER,
            },
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.splitlines()[-1] == "ada /home/ada 4242:4242"
        assert (project / "created.txt").stat().st_uid == 4242
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_a_shell_on_code_you_did_not_write(
    tmp_path: Path, base_image: str, project_image: str
) -> None:
    """.git is never writable from the container; --read-only makes the whole tree so."""
    import subprocess

    project = copy_fixture("groups-extras", tmp_path)
    configure(project, image=project_image, base_image=base_image)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    config = (project / ".git" / "config").read_text()
    code, output = shell(project, "echo '[core]' >> .git/config; touch made-inside; echo $?")
    assert code == 0, output
    assert (project / ".git" / "config").read_text() == config, "the host's git config is kept"
    assert (project / "made-inside").exists(), "the tree itself stays writable"
    result = run_poetry(
        project, "docker", "shell", "--read-only", "-c",
        "cat pyproject.toml >/dev/null && touch made-read-only",
    )  # fmt: skip
    assert result.returncode != 0, result.output
    assert "Read-only file system" in result.output
    assert not (project / "made-read-only").exists()
