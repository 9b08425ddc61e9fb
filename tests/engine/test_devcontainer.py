"""``poetry docker devcontainer``: the file from values (unit tests), and the real Dev Containers
CLI starting, using and refreshing the development image, as VS Code would."""

from __future__ import annotations

import grp
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import (
    DOCKER,
    POETRY,
    REPO,
    Base,
    Result,
    configure,
    copy_fixture,
    docker,
    run_poetry,
)

# The Dev Containers CLI that scripts/dev installs (npm), or another one.
DEVCONTAINER_CLI = os.environ.get(
    "DEVCONTAINER_CLI", str(REPO / ".devcontainer-cli" / "node_modules" / ".bin" / "devcontainer")
)


CONFIG = Path(".devcontainer") / "devcontainer.json"


# A host user who is not root, as a developer is: uid and gid 4242, in the docker group.
USER_ID = 4242


def devcontainer_cli() -> str:
    """The CLI's path; a skip without it (a failure with REQUIRE_DOCKER=1, as in CI)."""
    if not os.access(DEVCONTAINER_CLI, os.X_OK):
        reason = f"the Dev Containers CLI is not at {DEVCONTAINER_CLI}"
        if os.environ.get("REQUIRE_DOCKER") == "1":
            pytest.fail(f"{reason}, and REQUIRE_DOCKER=1: run scripts/dev to install it")
        pytest.skip(reason)
    return DEVCONTAINER_CLI


def generated(project: Path, *options: str) -> dict[str, object]:
    result = run_poetry(project, "docker", "devcontainer", *options)
    assert result.returncode == 0, result.output
    loaded: dict[str, object] = json.loads((project / CONFIG).read_text())
    return loaded


def check(project: Path, *options: str) -> Result:
    return run_poetry(project, "docker", "devcontainer", "--check", *options)


def test_check_is_red_after_a_settings_change_and_green_after_regenerating(
    tmp_path: Path, base_image: str, project_image: str
) -> None:
    project = copy_fixture("groups-extras", tmp_path)
    configure(project, image=project_image, base_image=base_image, ports=[8000])
    first = generated(project, "--with", "docs")
    assert first["forwardPorts"] == [8000]
    before = (project / CONFIG).read_bytes()
    assert check(project, "--with", "docs").returncode == 0
    generated(project, "--with", "docs")
    assert (project / CONFIG).read_bytes() == before, "regenerating changes no byte"

    configure(project, ports=[8000, 8888])
    red = check(project, "--with", "docs")
    assert red.returncode == 1, red.output
    assert str(project / CONFIG) in red.output
    assert "Run `poetry docker devcontainer --with docs`" in red.output, "says what to run"
    other = check(project)
    assert other.returncode == 1
    assert "It was written with `poetry docker devcontainer --with docs`" in other.output
    assert "Traceback" not in red.output
    assert (project / CONFIG).read_bytes() == before, "--check writes nothing"
    assert generated(project, "--with", "docs")["forwardPorts"] == [8000, 8888]
    assert check(project, "--with", "docs").returncode == 0


def test_a_file_the_plugin_did_not_write_or_that_was_edited_needs_force(
    tmp_path: Path, base_image: str, project_image: str
) -> None:
    project = copy_fixture("groups-extras", tmp_path)
    configure(project, image=project_image, base_image=base_image)
    own = '// mine\n{"image": "python:3.12"}\n'
    (project / ".devcontainer").mkdir()
    (project / CONFIG).write_text(own)
    refused = run_poetry(project, "docker", "devcontainer")
    assert refused.returncode == 1
    assert "was not written by `poetry docker devcontainer`" in refused.output
    assert "--force" in refused.output and "Traceback" not in refused.output
    assert (project / CONFIG).read_text() == own, "left as it was"
    generated(project, "--force")

    edited = json.loads((project / CONFIG).read_text())
    edited["remoteUser"] = "someone"
    (project / CONFIG).write_text(json.dumps(edited))
    refused = run_poetry(project, "docker", "devcontainer")
    assert refused.returncode == 1
    assert "was edited by hand" in refused.output
    assert json.loads((project / CONFIG).read_text())["remoteUser"] == "someone"
    assert "remoteUser" not in generated(project, "--force")

    for options, names in (
        (["-e", "1X=y"], "--env"),
        (["--check", "--force"], "--check and --force"),
    ):
        bad = run_poetry(project, "docker", "devcontainer", *options)
        assert bad.returncode == 1 and names in bad.output, bad.output
        assert "Traceback" not in bad.output


@dataclass(frozen=True)
class Workspace:
    """A project opened with the Dev Containers CLI, whose ``poetry`` (the one on PATH, which
    the file's initializeCommand runs) runs as ada, uid and gid 4242, in the docker group, as
    a developer's does. The CLI itself runs as this process's user (root here): it only
    starts the container, whose user is the image's, which poetry decided."""

    project: Path
    bin: Path  # holds the `poetry` of ada

    @property
    def poetry(self) -> str:
        return str(self.bin / "poetry")

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            command,
            cwd=self.project,
            env={
                **os.environ,
                "POETRY_DOCKER_ENGINE": DOCKER,
                "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            },
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if check:
            assert completed.returncode == 0, completed.stdout + completed.stderr[-4000:]
        return completed

    def cli(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command, *rest = arguments
        workspace = ["--workspace-folder", str(self.project)]
        return self.run(devcontainer_cli(), command, *workspace, *rest, check=check)

    def exec(self, script: str) -> str:
        """A command in the container as the editor runs one (the CLI's exec)."""
        return self.cli("exec", "sh", "-c", script).stdout

    def up(self) -> str:
        up = json.loads(self.cli("up").stdout.strip().splitlines()[-1])
        assert up["outcome"] == "success", up
        identifier: str = up["containerId"]
        return identifier


def containers_of(project: Path) -> list[str]:
    listed = docker(
        "ps",
        "--all",
        "--quiet",
        "--no-trunc",
        "--filter",
        f"label=devcontainer.local_folder={project}",
    )
    return listed.stdout.split()


@pytest.fixture
def workspace(base: Base, project_image: str) -> Iterator[Workspace]:
    """The groups-extras project, with a tiny test suite, owned by ada; every container the
    CLI made for it is removed afterwards."""
    shared = Path(tempfile.mkdtemp(prefix="pdp-devcontainer-"))
    project = copy_fixture("groups-extras", shared)
    configure(project, image=project_image, **base.settings)
    (project / "tests").mkdir()
    (project / "tests" / "test_demo.py").write_text(
        "import unittest\n\nimport iniconfig\nimport extras_demo\n\n\n"
        "class Demo(unittest.TestCase):\n"
        "    def test_imports(self):\n"
        "        self.assertTrue(iniconfig.__name__ and extras_demo.__name__)\n"
    )
    subprocess.run(["chown", "-R", f"{USER_ID}:{USER_ID}", str(shared)], check=True)
    bin_dir = shared / "bin"
    bin_dir.mkdir()
    docker_gid = grp.getgrnam("docker").gr_gid
    # setpriv runs poetry itself: its first exec may still read this environment's Python
    # (under /root here), which ada's later processes could not.
    (bin_dir / "poetry").write_text(
        "#!/bin/sh\n"
        f"HOME={shared} USER=ada LOGNAME=ada POETRY_CACHE_DIR={shared}/cache \\\n"
        f"    exec setpriv --reuid={USER_ID} --regid={USER_ID} --groups={docker_gid} "
        f'{POETRY} --no-ansi "$@"\n'
    )
    (bin_dir / "poetry").chmod(0o755)
    try:
        yield Workspace(project, bin_dir)
    finally:
        try:
            for container in containers_of(project):
                docker("rm", "--force", container, check=False)
        finally:  # the folder goes even when the engine does not answer
            shutil.rmtree(shared, ignore_errors=True)


def add_tomli_to_the_dev_group(project: Path) -> None:
    """What `poetry add --group dev tomli` would write (tomli is locked for docs already)."""
    from poetry.factory import Factory

    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    dev = 'iniconfig = "^2.0"\n'
    pyproject.write_text(text.replace(dev, dev + 'tomli = "^2.0"\n'))
    lock = project / "poetry.lock"
    text = lock.read_text().replace('groups = ["docs"]', 'groups = ["dev", "docs"]')
    old_hash = Factory().create_poetry(project).locker.lock_data["metadata"]["content-hash"]
    new_hash = Factory().create_poetry(project).locker._get_content_hash()
    lock.write_text(text.replace(old_hash, new_hash))
    assert run_poetry(project, "check", "--lock").returncode == 0


def test_the_cli_opens_the_development_image_on_the_live_tree(
    workspace: Workspace, base: Base, project_image: str
) -> None:
    project = workspace.project
    workspace.run(workspace.poetry, "docker", "devcontainer")
    first = workspace.up()
    development = f"{project_image}:dev"
    image = docker("image", "inspect", "--format", "{{.Id}}", development).stdout.strip()
    assert docker("inspect", "--format", "{{.Image}}", first).stdout.strip() == image, (
        "the container is of the development image itself, not of an image the CLI derived"
    )

    # The project's tests, the dev group and the project editable, as the editor runs them.
    tested = workspace.cli("exec", "python", "-m", "unittest", "discover", "-v", "-s", "tests")
    assert "test_imports" in tested.stderr and "OK" in tested.stderr, tested.stderr

    # An edit on the host is seen inside, in the same container and image.
    main = project / "extras_demo" / "__main__.py"
    main.write_text(main.read_text() + 'print("edited on the host")\n')
    assert "edited on the host" in workspace.exec("python -m extras_demo")

    # Files made inside are the host user's; the shell knows them by name.
    assert workspace.exec("touch made-inside.txt && id -un && id -u && id -g").split() == [
        "ada", "4242", "4242"
    ]  # fmt: skip
    made = (project / "made-inside.txt").stat()
    assert (made.st_uid, made.st_gid) == (USER_ID, USER_ID)

    # A login shell (as terminals and tasks start) and `which` find the environment.
    python = f"{base.prefix('extras-demo')}/bin/python"
    login = workspace.exec("bash -lc 'which python; python -c \"import extras_demo; print(7)\"'")
    assert login.split() == [python, "7"]
    # Also for a tool that enters the container without the CLI's environment probe
    # (`docker exec`, another editor): the image's ENV holds the activation, and the CLI
    # made /etc/profile keep the PATH it finds.
    entered = docker("exec", first, "bash", "-lc", "which python").stdout
    assert entered.strip() == python
    settings = json.loads((project / CONFIG).read_text())["customizations"]["vscode"]["settings"]
    assert settings["python.defaultInterpreterPath"] == python
    if base.manager == "conda":  # the environment's activate.d ran, for every process
        assert workspace.exec('echo "ACT=$ACTDEMO"').strip() == "ACT=1"
        assert workspace.exec("bash -lc 'echo \"ACT=$ACTDEMO\"'").strip() == "ACT=1"

    # A lock change: the next start of the container (closed, as VS Code closes it) uses a
    # development image rebuilt with it.
    assert "ModuleNotFoundError" in workspace.exec("python -c 'import tomli' 2>&1 || true")
    add_tomli_to_the_dev_group(project)
    docker("stop", "--time", "1", first)
    second = workspace.up()
    assert second != first, "a container of the refreshed image"
    assert containers_of(project) == [second], "the stale one is gone"
    assert workspace.exec("python -c 'import tomli; print(\"tomli ok\")'").strip() == "tomli ok"
    refreshed = docker("image", "inspect", "--format", "{{.Id}}", development).stdout.strip()
    assert refreshed != image
    assert docker("inspect", "--format", "{{.Image}}", second).stdout.strip() == refreshed
