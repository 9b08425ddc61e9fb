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
from conftest import (
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

from poetry_docker_plugin.devcontainer import (
    MARKER_KEY,
    PREPARE_COMMAND,
    DevContainer,
    dump,
    file_state,
    split_ports,
)

# The Dev Containers CLI that scripts/dev installs (npm), or another one.
DEVCONTAINER_CLI = os.environ.get(
    "DEVCONTAINER_CLI", str(REPO / ".devcontainer-cli" / "node_modules" / ".bin" / "devcontainer")
)


CONFIG = Path(".devcontainer") / "devcontainer.json"


# A host user who is not root, as a developer is: uid and gid 4242, in the docker group.
USER_ID = 4242


def sample(**changes: object) -> DevContainer:
    values: dict[str, object] = {
        "project": "demo",
        "image": "demo:dev",
        "workdir": "/app",
        "python": "/opt/conda/envs/demo/bin/python",
    }
    return DevContainer(**{**values, **changes})  # type: ignore[arg-type]


def test_the_document_names_the_development_image_and_how_to_prepare_it() -> None:
    config = sample(options=("--with", "docs")).config()
    assert config["image"] == "demo:dev"
    assert config["initializeCommand"] == [*PREPARE_COMMAND, "--with", "docs"]
    assert config["workspaceFolder"] == "/app"
    assert config["workspaceMount"] == "source=${localWorkspaceFolder},target=/app,type=bind"
    assert config["updateRemoteUserUID"] is False, "the image has the host user already"
    assert config["userEnvProbe"] == "loginInteractiveShell", "activate.d's variables too"
    vscode = config["customizations"]["vscode"]
    assert vscode["settings"]["python.defaultInterpreterPath"] == "/opt/conda/envs/demo/bin/python"
    assert vscode["extensions"] == ["ms-python.python"]
    for absent in ("forwardPorts", "appPort", "containerEnv", "hostRequirements", "runArgs"):
        assert absent not in config, "nothing asked, nothing written"


def test_ports_env_and_gpus_land_where_the_spec_takes_them() -> None:
    forwarded, published = split_ports(("8000", "9000/tcp", "5353/udp"))
    assert (forwarded, published) == ((8000, 9000), ("5353:5353/udp",))
    config = sample(
        forward_ports=(9000, 8000, 8000),
        app_ports=("5353:5353/udp",),
        container_env=(("MODE", "dev"), ("TOKEN", "${localEnv:TOKEN}")),
        gpus="all",
    ).config()
    assert config["forwardPorts"] == [8000, 9000]
    assert config["appPort"] == ["5353:5353/udp"]
    assert config["containerEnv"] == {"MODE": "dev", "TOKEN": "${localEnv:TOKEN}"}
    assert config["hostRequirements"] == {"gpu": True}
    assert sample(gpus="device=0").config()["runArgs"] == ["--gpus", "device=0"]


def test_the_text_is_sorted_json_and_stable() -> None:
    text = sample(forward_ports=(8000,), container_env=(("B", "2"), ("A", "1"))).text()
    assert text == sample(forward_ports=(8000,), container_env=(("B", "2"), ("A", "1"))).text()
    assert text.endswith("}\n") and "//" not in text
    assert text == dump(json.loads(text)), "keys sorted, two-space indents"
    keys = list(json.loads(text))
    assert keys == sorted(keys)


def test_the_marker_tells_generated_edited_and_foreign_files_apart() -> None:
    text = sample().text()
    assert file_state(None) == "missing"
    assert file_state(text) == "generated"
    edited = json.loads(text)
    edited["forwardPorts"] = [3000]
    assert file_state(dump(edited)) == "edited"
    assert file_state(json.dumps(edited)) == "edited", "spelling aside, the content counts"
    assert file_state(json.dumps(json.loads(text))) == "generated", "respelled, same content"
    del edited["customizations"][MARKER_KEY]
    assert file_state(dump(edited)) == "foreign"
    assert file_state('// my own\n{"image": "x"}') == "foreign", "JSONC: not the plugin's"
    assert file_state("[1]") == "foreign"


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
