"""Target platforms against the real engine: the engine's own by default, never this
machine's; a base image of another platform refused before anything is built; two platforms
(linux/arm64 under QEMU user emulation, on the offline arm64 test base) pushed as one
reference. Emulated builds are slow: one build of the example for arm64 serves them all."""

from __future__ import annotations

import json
import os
import subprocess
from typing import TYPE_CHECKING

import pytest
import tomllib
from packaging.utils import parse_wheel_filename

from tests.conftest import DOCKER, configure, copy_fixture, docker, locked_versions, run_poetry

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Registry, SecondEngine


def test_the_target_is_the_engines_platform_not_this_machines(
    base_image: str, tmp_path: Path, project_image: str
) -> None:
    """``setarch i686`` makes this machine say i686 to Poetry (a kernel personality, not a
    stub); the engine still runs amd64. numpy and pandas have no i686 wheels: wheels picked
    for the host would fail the plan, or the image at import time."""
    project = copy_fixture("examples/sample-app", tmp_path)
    configure(project, base_image=base_image, image=project_image)
    built = run_poetry(project, "docker", "build", prefix=("setarch", "i686"))
    assert built.returncode == 0, built.output
    code = "import numpy, pandas, platform; print(platform.machine(), numpy.__version__)"
    python = "/opt/venv/bin/python"
    ran = docker("run", "--rm", "--entrypoint", python, f"{project_image}:1.2.0", "-c", code)
    machine, numpy = ran.stdout.split()
    assert machine == "x86_64" and numpy in locked_versions(project)["numpy"]


def test_a_base_image_of_another_platform_is_refused_before_building(
    base_image: str, tmp_path: Path, project_image: str
) -> None:
    """The local test base is amd64 and no registry has an arm64 one: one clear paragraph."""
    project = copy_fixture("flat-script", tmp_path)
    configure(project, base_image=base_image, image=project_image)
    for verbosity in ("-q", "-v"):
        result = run_poetry(project, "docker", "build", "--platform", "linux/arm64", verbosity)
        assert result.returncode == 1
        assert f"The base image {base_image} is a linux/amd64 image here" in result.stderr
        assert "linux/arm64" in result.stderr and "Traceback" not in result.output
    assert docker("image", "inspect", f"{project_image}:0.3.1", check=False).returncode != 0


@pytest.fixture(scope="session")
def two_platform_base(registry: Registry, base_image: str, arm64_base_image: str) -> str:
    """The test bases for amd64 and arm64 as one reference in the registry, as a registry's
    ``python`` or ``debian`` image is; this engine has no local image of that name."""
    reference = registry.reference("pdp-base:bookworm")
    images = []
    for image, architecture in ((base_image, "amd64"), (arm64_base_image, "arm64")):
        tagged = f"{reference}-{architecture}"
        docker("tag", image, tagged)
        docker("push", tagged)
        docker("image", "rm", tagged)
        images.append(tagged)
    experimental = {**os.environ, "DOCKER_CLI_EXPERIMENTAL": "enabled"}
    for command in (
        ["create", "--amend", "--insecure", reference, *images],
        ["push", "--purge", "--insecure", reference],
    ):
        subprocess.run(
            [DOCKER, "manifest", *command], check=True, env=experimental, capture_output=True
        )
    return reference


# Run inside the arm64 image by the environment's Python: the machine, the installed numpy and
# the tags of the wheel it came from (pip copies them into .dist-info/WHEEL), its compiled
# modules, and the SBOM's hash of it. The project's own code runs too (numpy and pandas).
PROBE = """
import importlib.metadata, json, platform
import numpy
from sample_app.stats import summary
numpy_dist = importlib.metadata.distribution("numpy")
sbom = json.load(open("/usr/local/share/poetry-docker/sbom.cdx.json"))
print(json.dumps({
    "machine": platform.machine(),
    "numpy": numpy.__version__,
    "summary_columns": list(summary(10).columns),
    "wheel_tags": sorted(
        line.split(":", 1)[1].strip()
        for line in (numpy_dist.read_text("WHEEL") or "").splitlines()
        if line.startswith("Tag:")
    ),
    "extensions": [str(f) for f in numpy_dist.files or () if str(f).endswith(".so")],
    "sbom_hashes": [
        h["content"]
        for c in sbom["components"] if c["name"] == "numpy"
        for h in c.get("hashes", ())
    ],
}))
"""


def locked_files(project: Path, name: str, version: str) -> dict[str, str]:
    """The lock's files of ``name`` at ``version``: file name -> ``sha256:HEX``."""
    lock = tomllib.loads((project / "poetry.lock").read_text())
    return {
        entry["file"]: entry["hash"]
        for package in lock["package"]
        if package["name"] == name and package["version"] == version
        for entry in package["files"]
    }


def check_arm64_image(project: Path, image: str) -> None:
    """An arm64 image whose numpy is the lock's aarch64 wheel, run under emulation."""
    architecture = docker("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", image)
    assert architecture.stdout.strip() == "linux/arm64"
    run = docker("run", "--rm", "--platform", "linux/arm64", image, "python", "-c", PROBE)
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["machine"] == "aarch64"
    assert seen["summary_columns"] == ["a", "b", "c"]
    modules = [path for path in seen["extensions"] if ".cpython-" in path]
    assert modules, "numpy's extension modules are listed in its RECORD"
    assert all(path.endswith("-aarch64-linux-gnu.so") for path in modules), modules
    # The installed wheel is the one locked file with exactly its tags: the aarch64 wheel for
    # CPython 3.11 (the base's), and the SBOM gives that file's hash from the lock.
    files = locked_files(project, "numpy", seen["numpy"])
    installed = [
        name
        for name in files
        if name.endswith(".whl")
        and sorted(str(tag) for tag in parse_wheel_filename(name)[3]) == seen["wheel_tags"]
    ]
    assert len(installed) == 1, (seen["wheel_tags"], sorted(files))
    (wheel,) = installed
    assert wheel.startswith(f"numpy-{seen['numpy']}-cp311-cp311-manylinux")
    assert wheel.endswith("_aarch64.whl")
    assert seen["sbom_hashes"] == [files[wheel].removeprefix("sha256:")]


def test_two_platforms_are_pushed_as_one_reference(
    registry: Registry,
    second_engine: SecondEngine,
    two_platform_base: str,
    tmp_path: Path,
    image_tag: str,
) -> None:
    """The example for linux/amd64 and linux/arm64 (under emulation: one emulated build serves
    every assertion here), each from the same lock, pushed as one list; each platform pulled
    by the printed digest on another engine and run; ``run`` says the arm64 one is emulated."""
    project = copy_fixture("examples/sample-app", tmp_path)
    repository = registry.reference(image_tag.split(":")[0])
    configure(project, base_image=two_platform_base, image=repository)
    platforms = ("--platform", "linux/amd64,linux/arm64")
    refused = run_poetry(project, "docker", "build", *platforms)
    assert refused.returncode == 1 and "Add --push" in refused.stderr, refused.output
    built = run_poetry(project, "docker", "build", *platforms, "--push")
    assert built.returncode == 0, built.output
    reference = built.stdout.strip()
    assert reference.startswith(f"{repository}@sha256:"), built.output
    check_arm64_image(project, f"{repository}:1.2.0-arm64")
    code = "import platform, numpy; print(platform.machine())"
    for architecture, machine in (("amd64", "x86_64"), ("arm64", "aarch64")):
        second_engine.docker("pull", "--platform", f"linux/{architecture}", reference)
        ran = second_engine.docker(
            "run", "--rm", "--platform", f"linux/{architecture}", reference, "python", "-c", code
        )
        assert ran.stdout.split() == [machine], ran
        second_engine.docker("image", "rm", reference)
    # Run here: the arm64 image (its layers cached) runs emulated, and says so once.
    ran = run_poetry(project, "docker", "run", "--platform", "linux/arm64", "--", "true")
    assert ran.returncode == 0, ran.output
    assert ran.stderr.count("under emulation (QEMU)") == 1, ran.stderr
    again = run_poetry(project, "docker", "run", "--platform", "linux/arm64", "--", "true")
    assert again.stderr.count("under emulation (QEMU)") == 1, "also when nothing is rebuilt"
    native = run_poetry(project, "docker", "run", "--", "true")
    assert native.returncode == 0 and "emulation" not in native.stderr, native.output
