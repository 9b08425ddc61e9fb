"""Podman as the engine (``POETRY_DOCKER_ENGINE=podman``): build, run and shell for real.

Podman builds with buildah, whose cache keys a ``RUN --mount=type=bind`` step on its text
alone: these tests prove that an edit or a change of groups still reaches the image. Podman's
images are its own, apart from Docker's: the test base is brought over once per session, and
everything made here is removed with ``podman rmi``.

In this sandbox ``podman run`` can only set rlimits that a containers.conf names (it fails
with "error setting rlimit type 7" otherwise), so every podman command, the plugin's
included, runs with ``CONTAINERS_CONF`` pointing at one written here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import DOCKER, Result, configure, copy_fixture, run_poetry

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.podman

PODMAN = shutil.which("podman") or "podman"
FINGERPRINT_LABEL = "dev.poetry-docker.fingerprint"
ULIMITS = 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]'


@dataclass(frozen=True)
class Podman:
    """The podman client with this session's containers.conf, and the base image in podman."""

    conf: Path
    base_image: str

    @property
    def env(self) -> dict[str, str]:
        return {"POETRY_DOCKER_ENGINE": PODMAN, "CONTAINERS_CONF": str(self.conf)}

    def __call__(self, *arguments: str, check: bool = True, stdin: bytes | None = None) -> Result:
        completed = subprocess.run(
            [PODMAN, *arguments],
            input=stdin,
            capture_output=True,
            env={**os.environ, "CONTAINERS_CONF": str(self.conf)},
            check=False,
        )
        result = Result(completed.returncode, completed.stdout.decode(), completed.stderr.decode())
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(arguments)} failed:\n{result.output}")
        return result

    def poetry(self, project: Path, *arguments: str, conf: Path | None = None) -> Result:
        """``poetry ARGUMENTS`` in ``project`` with podman as the engine."""
        env = {**self.env, **({"CONTAINERS_CONF": str(conf)} if conf else {})}
        return run_poetry(project, *arguments, env=env)

    def remove_images(self, repository: str) -> None:
        listed = self("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", check=False)
        for reference in listed.stdout.split():
            if reference.split("/")[-1].split(":")[0] == repository:
                self("image", "rm", reference, check=False)


@pytest.fixture(scope="session")
def podman(base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    """podman, with the venv test base loaded from Docker once (``docker save | podman load``).

    Afterwards every image the session made is removed, buildah's intermediate ones included
    (podman keeps them as its build cache): the test base too, unless it was there before.
    """
    if shutil.which("podman") is None:
        reason = "podman is not installed (bash scripts/dev installs it from Debian)"
        if os.environ.get("REQUIRE_DOCKER") == "1":
            pytest.fail(f"{reason}, and REQUIRE_DOCKER=1")
        pytest.skip(reason)
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(f"[containers]\n{ULIMITS}\n")
    client = Podman(conf, "")
    before = set(client("image", "ls", "--all", "--quiet", "--no-trunc").stdout.split())
    saved = subprocess.run([DOCKER, "save", base_image], capture_output=True, check=True).stdout
    loaded = client("load", stdin=saved).stdout.strip().splitlines()[-1]
    yield Podman(conf, loaded.removeprefix("Loaded image: ").split(",")[0].strip())
    made = set(client("image", "ls", "--all", "--quiet", "--no-trunc").stdout.split()) - before
    if made:
        client("image", "rm", *sorted(made), check=False)


@pytest.fixture(scope="module")
def hello(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The flat-script fixture on the venv base in podman, built by its first run."""
    project = copy_fixture("flat-script", tmp_path_factory.mktemp("podman-hello"))
    name = f"pdp-podman-{uuid.uuid4().hex[:10]}"
    configure(project, image=name, base_image=podman.base_image)
    yield project
    podman.remove_images(name)


def test_build_and_run(podman: Podman, hello: Path) -> None:
    built = podman.poetry(hello, "docker", "build")
    assert built.returncode == 0, built.output
    assert "STEP 1/" in built.stderr, "buildah's progress: podman built it"
    result = podman.poetry(hello, "docker", "run")
    assert result.returncode == 0, result.output
    assert "hello from hello-app: markupsafe" in result.stdout
    assert result.stdout.rstrip().endswith("args:")
    code = podman.poetry(hello, "docker", "run", "--", "python", "-c", "raise SystemExit(42)")
    assert code.returncode == 42, code.output


def test_a_source_edit_reaches_the_image(podman: Podman, hello: Path) -> None:
    """buildah reuses a RUN step whose mounted wheel changed unless the step's text changes."""
    built = podman.poetry(hello, "docker", "build")
    assert built.returncode == 0, built.output
    image = built.stdout.strip().splitlines()[-1]
    before = fingerprint_label(podman, image)
    cli = hello / "hello_app" / "cli.py"
    cli.write_text(cli.read_text().replace("hello from", "edited under podman, hello from"))
    result = podman.poetry(hello, "docker", "run")
    assert result.returncode == 0, result.output
    assert "edited under podman, hello from hello-app" in result.stdout, result.output
    assert fingerprint_label(podman, image) != before
    # the label names the inputs as they are now: nothing is left to rebuild
    again = podman.poetry(hello, "-v", "docker", "build")
    assert again.returncode == 0, again.output
    assert f"{image} is up to date: nothing changed" in again.stderr, again.output


def fingerprint_label(podman: Podman, image: str) -> str:
    template = f'{{{{index .Config.Labels "{FINGERPRINT_LABEL}"}}}}'
    return podman("image", "inspect", "--format", template, image).stdout.strip()


def test_a_missing_catatonit_is_named(podman: Podman, hello: Path, tmp_path: Path) -> None:
    """podman's --init runs catatonit; a containers.conf whose init_path names no file gives
    podman's own error, as a machine without the catatonit package does."""
    conf = tmp_path / "containers.conf"
    conf.write_text(f'[containers]\n{ULIMITS}\ninit_path = "{tmp_path}/no-catatonit"\n')
    result = podman.poetry(hello, "docker", "run", "--", "true", conf=conf)
    assert result.returncode == 125, result.output
    assert "container-init binary not found" in result.stderr, "podman's own line passes through"
    assert "install catatonit (Debian/Ubuntu: apt-get install catatonit)" in result.stderr
    assert "Traceback" not in result.output


def test_shell_follows_the_groups_and_mounts_the_working_tree(
    podman: Podman, tmp_path: Path
) -> None:
    """The development image gains the dev group when it is no longer left out."""
    project = copy_fixture("groups-extras", tmp_path)
    name = f"pdp-podman-{uuid.uuid4().hex[:10]}"
    configure(project, image=name, base_image=podman.base_image, without=["dev"])
    try:
        check = "python -c 'import iniconfig; print(\"dev group ok\")'"
        without = podman.poetry(project, "docker", "shell", "-c", check)
        assert without.returncode == 1, without.output
        assert "No module named 'iniconfig'" in without.output

        configure(project, without=[])
        main = project / "extras_demo" / "__main__.py"
        main.write_text(main.read_text() + 'print("edited on the host")\n')
        result = podman.poetry(
            project, "docker", "shell", "-c", f"{check} && python -m extras_demo"
        )
        assert result.returncode == 0, result.output
        assert "dev group ok" in result.stdout
        assert "edited on the host" in result.stdout, "the working tree is mounted"
    finally:
        podman.remove_images(name)


def test_two_reproducible_builds_are_one_image(podman: Podman, tmp_path: Path) -> None:
    """buildah with --timestamp (every time in the new layers and the config the epoch): two
    --no-cache builds of the same inputs are one image id; no git here, so the epoch is 1980."""
    project = copy_fixture("flat-script", tmp_path)
    name = f"pdp-podman-{uuid.uuid4().hex[:10]}"
    configure(project, image=name, base_image=podman.base_image)
    try:
        ids = []
        for _ in range(2):
            built = podman.poetry(project, "docker", "build", "--reproducible", "--no-cache")
            assert built.returncode == 0, built.output
            image = built.stdout.strip().splitlines()[-1]
            ids.append(podman("image", "inspect", "--format", "{{.Id}}", image).stdout.strip())
        assert ids[0] == ids[1]
        created = podman("image", "inspect", "--format", "{{.Created}}", ids[0]).stdout
        assert created.startswith("1980-01-01"), created
    finally:
        podman.remove_images(name)
