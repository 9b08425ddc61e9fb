"""poetry-docker.lock on the conda path: locked packages survive a newer build in the
channel, a tampered hash fails the build, stale inputs are refused, `lock --update` moves on.

The channel that changes is a second one, served from the host over HTTP (builds and the
solve reach it with --network host) and edited by the test: the base image stays the same
image, so the lock's base digest holds while the channel's contents move behind it, as a
real channel's do between a lock and a cold build next month.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import tomllib

from tests.conftest import CONDA_STANDIN, configure, copy_fixture, docker, run_poetry
from tests.engine.test_channels import serve

if TYPE_CHECKING:
    from types import ModuleType

    from tests.conftest import Registry

LOCK = "poetry-docker.lock"


def mkpkg() -> ModuleType:
    """The stand-in's package maker (write_package, cmd_index), imported from its path."""
    spec = importlib.util.spec_from_file_location("mkpkg", CONDA_STANDIN.parent / "mkpkg.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_lockdemo(channel: Path, version: str) -> None:
    """A tiny noarch package ``lockdemo`` of ``version`` in the channel, indexed again."""
    maker = mkpkg()
    files = [(f"share/lockdemo/{version}", "file", version.encode(), 0o644, None, None)]
    index = {"name": "lockdemo", "version": version, "build": "0", "build_number": 0,
             "depends": [], "noarch": "generic", "subdir": "noarch", "license": "MIT",
             "timestamp": maker.TS}  # fmt: skip
    maker.write_package(str(channel / "noarch" / f"lockdemo-{version}-0.tar.bz2"), files, index)
    maker.cmd_index(str(channel))


def locked_packages(project: Path) -> dict[str, dict[str, object]]:
    document = tomllib.loads((project / LOCK).read_text())
    return {p["name"]: p for p in document["package"]}


def test_the_lock_pins_the_conda_packages(
    tmp_path: Path, conda_base_image: str, project_image: str
) -> None:
    started = time.monotonic()
    channel = tmp_path / "channels" / "extra"
    add_lockdemo(channel, "1.0")
    project = copy_fixture("flat-script", tmp_path)
    with serve(tmp_path / "channels") as url:
        url = url.replace("/private", "/extra")
        configure(
            project,
            image=project_image,
            base_image=conda_base_image,
            python="3.11",
            runtime_base="base",
            conda_channels=["conda-forge", url],
            conda_packages=["lockdemo"],
        )
        unlocked = run_poetry(project, "docker", "build", "--print")
        assert "poetry docker lock" in unlocked.stderr, unlocked.output

        made = run_poetry(project, "docker", "lock", "--network", "host")
        assert made.returncode == 0, made.output
        packages = locked_packages(project)
        assert packages["lockdemo"]["version"] == "1.0"
        assert set(packages) >= {"python", "pip", "lockdemo"}
        assert all(len(str(p["sha256"])) == 64 for p in packages.values())
        document = tomllib.loads((project / LOCK).read_text())
        base_id = docker("image", "inspect", "--format", "{{.Id}}", conda_base_image).stdout
        assert document["base-image"] == [
            {"reference": conda_base_image, "platform": "linux/amd64",
             "digest": base_id.strip(), "local": True}
        ]  # fmt: skip
        written = (project / LOCK).stat().st_mtime_ns
        again = run_poetry(project, "docker", "lock", "--network", "host")
        assert "already up to date" in again.stderr, again.output
        assert (project / LOCK).stat().st_mtime_ns == written

        # A newer lockdemo appears in the channel: a cold build still installs the locked one.
        add_lockdemo(channel, "1.1")
        built = run_poetry(
            project, "docker", "build", "--network", "host", "--no-cache", "--sbom",
            str(tmp_path / "sbom.json"),
        )  # fmt: skip
        assert built.returncode == 0, built.output
        image = f"{project_image}:0.3.1"
        listed = docker("run", "--rm", image, "sh", "-c", "ls $CONDA_PREFIX/share/lockdemo")
        assert listed.stdout.split() == ["1.0"]
        labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}",
                                   image).stdout)  # fmt: skip
        assert labels["dev.poetry-docker.conda-lock"] == document["inputs"]["digest"]
        sbom = json.loads((tmp_path / "sbom.json").read_text())
        demo = next(c for c in sbom["components"] if c["purl"].startswith("pkg:conda/lockdemo"))
        assert {"alg": "SHA-256", "content": packages["lockdemo"]["sha256"]} in demo["hashes"]

        # A lock whose hash of a package was altered fails the build, saying so. pip comes
        # from the stand-in's file:// channel, whose files conda does not check itself: the
        # plugin's own check (a line the step printed, not the command BuildKit echoes) must.
        assert str(packages["pip"]["url"]).startswith("file:///")
        text = (project / LOCK).read_text()
        good = str(packages["pip"]["sha256"])
        (project / LOCK).write_text(text.replace(good, good[::-1]))
        tampered = run_poetry(project, "docker", "build", "--network", "host")
        assert tampered.returncode != 0
        printed = r"^#\d+ [\d.]+ poetry-docker: a conda package file .* does not match its hash"
        assert re.search(printed, tampered.stderr, re.MULTILINE), tampered.stderr[-3000:]
        (project / LOCK).write_text(text)

        # --update moves to the newer build.
        updated = run_poetry(project, "docker", "lock", "--update", "--network", "host")
        assert updated.returncode == 0, updated.output
        assert locked_packages(project)["lockdemo"]["version"] == "1.1"

        # Changed inputs: the build refuses the stale lock, naming what changed.
        configure(project, conda_packages=["lockdemo", "actdemo"])
        stale = run_poetry(project, "docker", "build", "--print")
        assert stale.returncode != 0
        assert "conda-packages was" in stale.output and "poetry docker lock" in stale.output
        relocked = run_poetry(project, "docker", "lock", "--network", "host")
        assert relocked.returncode == 0, relocked.output
        packages = locked_packages(project)
        assert packages["lockdemo"]["version"] == "1.1" and "actdemo" in packages
        assert run_poetry(project, "docker", "build", "--print").returncode == 0

        for change, expected in (
            ({"python": "3.12"}, 'python was "3.11" and is "3.12"'),
            ({"conda_channels": ["conda-forge", url, "conda-forge/label/x"]}, "conda-channels"),
            ({"base_image": "miniforge-standin:25.3.1"}, "base-images"),
            ({"env_manager": "venv"}, "env-manager"),
        ):
            saved = (project / "pyproject.toml").read_text()
            configure(project, **change)
            refused = run_poetry(project, "docker", "build", "--print")
            assert refused.returncode != 0 and expected in refused.output, refused.output
            (project / "pyproject.toml").write_text(saved)
    print(f"\nduration {time.monotonic() - started:.0f} s")


@pytest.mark.parametrize("python", ["3.11"])
def test_a_moved_local_base_is_refused(
    tmp_path: Path, conda_base_image: str, project_image: str, python: str
) -> None:
    """A local base (no registry digest) rebuilt under the locked name: the build refuses."""
    started = time.monotonic()
    project = copy_fixture("flat-script", tmp_path)
    base = f"{project_image}-base:1"
    docker("tag", conda_base_image, base)
    configure(project, image=project_image, base_image=base, python=python, runtime_base="base")
    assert run_poetry(project, "docker", "lock").returncode == 0
    moved = docker(
        "build", "-q", "-t", base, "-", input=f"FROM {conda_base_image}\nLABEL moved=1\n"
    )
    assert moved.returncode == 0
    # (a build: --print trusts the probe's cache, where the build looks at the base again)
    refused = run_poetry(project, "docker", "build")
    try:
        assert refused.returncode != 0
        assert "is not the one poetry-docker.lock locked" in refused.output, refused.output
        assert "poetry docker lock --update" in refused.output
    finally:
        docker("image", "rm", base, check=False)
    print(f"\nduration {time.monotonic() - started:.0f} s")


def test_a_registry_base_is_built_by_its_locked_digest(
    tmp_path: Path, registry: Registry, base_image: str, project_image: str
) -> None:
    """A base from a registry is locked by its registry digest and built FROM it, so a tag
    moved in the registry after the lock does not reach the image."""
    started = time.monotonic()
    base = registry.reference(f"{project_image}-base:1")
    docker("tag", base_image, base)
    pushed = docker("push", base).output
    digest = re.findall(r"digest: (sha256:[0-9a-f]{64})", pushed)[-1]
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=project_image, base_image=base)
    try:
        assert run_poetry(project, "docker", "lock").returncode == 0
        (locked,) = tomllib.loads((project / LOCK).read_text())["base-image"]
        assert (locked["reference"], locked["digest"]) == (base, digest)
        assert not locked.get("local", False)
        # The tag moves in the registry (a security rebuild under the same name).
        moved = f"FROM {base_image}\nLABEL moved=1\n"
        docker("build", "-q", "-t", base, "-", input=moved)
        docker("push", base)
        printed = run_poetry(project, "docker", "build", "--print")
        assert f"FROM {base}@{digest}" in printed.stdout, printed.output
        built = run_poetry(project, "docker", "build")
        assert built.returncode == 0, built.output
        image = built.stdout.strip().splitlines()[-1]
        labels = docker("image", "inspect", "--format", "{{json .Config.Labels}}", image)
        assert "moved" not in json.loads(labels.stdout), "built from the locked digest"
        assert docker("run", "--rm", image).stdout.strip()
    finally:
        docker("image", "rm", base, check=False)
    print(f"\nduration {time.monotonic() - started:.0f} s")
