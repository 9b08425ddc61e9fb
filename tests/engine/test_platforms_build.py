"""Target platforms against the real engine: the engine's own by default, never this
machine's; a base image of another platform refused before anything is built; two platforms
(linux/arm64 on the offline arm64 test base) pushed as one reference; a wheels-only build for
the other platform with its emulation switched off; an sdist built emulated, and said so."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import tomllib
from packaging.utils import parse_wheel_filename

from tests.conftest import DOCKER, configure, copy_fixture, docker, locked_versions, run_poetry

if TYPE_CHECKING:
    from collections.abc import Iterator

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
    built = run_poetry(project, "docker", "build", *platforms, "--push", "-v")
    assert built.returncode == 0, built.output
    # The foreign platform's groups of wheels were installed natively (issue 32), and -v says
    # which steps ran emulated; the engine's own platform has no such report.
    engine = docker("version", "--format", "{{.Server.Os}}/{{.Server.Arch}}").stdout.strip()
    (foreign,) = {"linux/amd64", "linux/arm64"} - {engine}
    assert f"Building for {foreign} on {engine}:" in built.stderr, built.stderr
    assert re.search(f"  natively on {engine}: the [0-9]+ groups of locked wheels", built.stderr)
    assert f"  natively on {engine}: creating the venv environment, tini" in built.stderr
    assert f"  emulated ({foreign}): nothing" in built.stderr
    assert built.stderr.count("Building for ") == 1
    # (-v: Poetry's wheel builder writes "- Building wheel" to stdout; the reference is last.)
    reference = built.stdout.strip().splitlines()[-1]
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


# What an emulated build leaves that the native one does not, and what differs whatever the
# way: the build's mount points, apt's logs and the package cache that its clean emptied.
NOT_COMPARED = ("tmp/", "var/log/", "var/cache/apt/", "var/lib/apt/", ".dockerenv", "etc/host")


def files_of(image: str) -> dict[str, tuple[object, ...]]:
    """Each file of the image's file system: its type, mode, owner, and content digest, or
    link target. A .pyc counts by its version magic only: its header holds the time of the
    install, and its code the path it was compiled at (the emulated groups' pip --root
    records /layer/opt/venv/..., the natively unpacked ones the installed path)."""
    import hashlib
    import io
    import tarfile

    created = docker("create", image, "true").stdout.strip()
    try:
        exported = subprocess.run([DOCKER, "export", created], capture_output=True, check=True)
    finally:
        docker("rm", created)
    files: dict[str, tuple[object, ...]] = {}
    with tarfile.open(fileobj=io.BytesIO(exported.stdout)) as archive:
        for member in archive:
            if member.name.startswith(NOT_COMPARED):
                continue
            content = ""
            if member.isfile():
                data = archive.extractfile(member).read()  # type: ignore[union-attr]
                data = data[:4] if member.name.endswith(".pyc") else data
                content = hashlib.sha256(data).hexdigest()
            elif member.issym() or member.islnk():
                content = member.linkname
            files[member.name] = (member.type, member.mode, member.uid, member.gid, content)
    return files


def engine_and_foreign_platforms() -> tuple[str, str]:
    """The engine's platform, and the other of linux/amd64 and linux/arm64."""
    engine = docker("version", "--format", "{{.Server.Os}}/{{.Server.Arch}}").stdout.strip()
    (foreign,) = {"linux/amd64", "linux/arm64"} - {engine}
    return engine, foreign


@contextlib.contextmanager
def emulation_switched_off(platform: str) -> Iterator[None]:
    """The kernel's QEMU handler for ``platform`` disabled (programs of that platform then
    fail with "exec format error"), and enabled again afterwards, whatever happens. Engine
    tests run one at a time, so nothing else runs while it is off."""
    machine = {"linux/arm64": "aarch64", "linux/amd64": "x86_64"}[platform]
    handler = Path(f"/proc/sys/fs/binfmt_misc/qemu-{machine}")
    assert handler.read_text().startswith("enabled"), f"{handler} is not enabled here"
    handler.write_text("0")
    try:
        yield
    finally:
        handler.write_text("1")
    assert handler.read_text().startswith("enabled")


def test_a_wheels_only_image_for_another_platform_builds_without_emulation(
    two_platform_base: str, tmp_path: Path, project_image: str
) -> None:
    """Issue 32's proof: with the kernel's QEMU handler for the other platform switched off,
    the example (numpy, pandas, its own wheel: wheels only) builds for it from nothing
    (--no-cache), and -v lists no emulated step. Switched on again, the image runs: numpy is
    the lock's aarch64 wheel, pip check passes, the account and tini are there (dpkg knows
    tini)."""
    engine, foreign = engine_and_foreign_platforms()
    project = copy_fixture("examples/sample-app", tmp_path)
    configure(project, base_image=two_platform_base, image=project_image)
    image = f"{project_image}:1.2.0"
    arguments = ("docker", "build", "--platform", foreign, "--no-cache", "-v")
    with emulation_switched_off(foreign):
        off = ("run", "--rm", "--platform", foreign, two_platform_base, "true")
        refused = docker(*off, check=False)
        assert refused.returncode != 0 and "exec format error" in refused.stderr, refused
        built = run_poetry(project, *arguments)
    assert built.returncode == 0, built.output
    assert f"Building for {foreign} on {engine}:" in built.stderr
    assert f"  natively on {engine}: installing the project's wheel" in built.stderr
    assert f"  emulated ({foreign}): nothing" in built.stderr, built.stderr
    if foreign == "linux/arm64":
        check_arm64_image(project, image)
    checks = (
        "pip check && id -un && command -v tini && dpkg-query -W -f '${Status}\\n' tini"
        " && sample-app | head -1"
    )
    ran = docker("run", "--rm", "--platform", foreign, image, "sh", "-c", checks)
    *lines, said = ran.stdout.splitlines()
    expected = ["No broken requirements found.", "app", "/usr/bin/tini", "install ok installed"]
    assert lines == expected, ran.stdout
    numpy = re.fullmatch(r"sample-app: numpy (\S+), pandas \S+, 1000 rows", said)
    assert numpy and numpy.group(1) in locked_versions(project)["numpy"], said


def test_an_sdist_for_another_platform_is_built_emulated_and_said_so(
    two_platform_base: str, tmp_path: Path, project_image: str
) -> None:
    """A project whose one dependency is an sdist (docopt): built for the other platform, the
    sdist's wheel is built by the target's pip under emulation, -v names that step as
    emulated and the environment as made natively, and the image runs the package."""
    engine, foreign = engine_and_foreign_platforms()
    project = copy_fixture("sdist-only", tmp_path)
    configure(project, base_image=two_platform_base, image=project_image)
    built = run_poetry(project, "docker", "build", "--platform", foreign, "-v")
    assert built.returncode == 0, built.output
    report = built.stderr[built.stderr.index(f"Building for {foreign} on {engine}:") :]
    assert f"  natively on {engine}: creating the venv environment, tini" in report
    assert (
        f"  emulated ({foreign}): building sdists, git and path dependencies "
        "(compilers of the target)"
    ) in report
    architecture = docker("image", "inspect", "--format", "{{.Architecture}}", project_image)
    assert architecture.stdout.strip() == foreign.split("/")[1]
    ran = docker("run", "--rm", "--platform", foreign, f"{project_image}:0.1.0")
    assert ran.stdout.strip() == "docopt 0.6.2", ran


def test_a_reproducible_build_for_another_platform_gives_the_same_image_twice(
    two_platform_base: str, tmp_path: Path, project_image: str
) -> None:
    """--reproducible with the environment made natively: two builds from nothing (--no-cache)
    give one image id, and it is an image of the other platform."""
    _, foreign = engine_and_foreign_platforms()
    project = copy_fixture("flat-script", tmp_path)
    configure(project, base_image=two_platform_base, image=project_image)
    ids = []
    for _ in range(2):
        built = run_poetry(
            project, "docker", "build", "--platform", foreign, "--reproducible", "--no-cache", "-v"
        )
        assert built.returncode == 0, built.output
        assert f"  emulated ({foreign}): nothing" in built.stderr, built.stderr
        inspected = docker(
            "image", "inspect", "--format", "{{.Id}} {{.Architecture}}", project_image
        )
        ids.append(inspected.stdout.split())
    assert ids[0] == ids[1] and ids[0][1] == foreign.split("/")[1], ids


def test_the_image_made_natively_holds_the_files_the_emulated_build_gives(
    two_platform_base: str, arm64_base_image: str, tmp_path: Path, project_image: str
) -> None:
    """The same project for linux/arm64 from the two-platform base (its environment made
    natively) and from the single-platform arm64 base (every step emulated): the same paths,
    owners, modes and content, scripts, RECORD and dpkg's database byte for byte, but for what
    .pyc record of their install (``files_of``) and what the emulated apt-get logged."""
    _, foreign = engine_and_foreign_platforms()
    if foreign != "linux/arm64":
        pytest.skip("the single-platform base of the comparison is an arm64 one")
    project = copy_fixture("flat-script", tmp_path)
    images = {}
    for base, made in ((two_platform_base, "natively on"), (arm64_base_image, "emulated (")):
        image = f"{project_image}-{'native' if made == 'natively on' else 'emulated'}"
        configure(project, base_image=base, image=image)
        built = run_poetry(project, "docker", "build", "--platform", foreign, "-v")
        assert built.returncode == 0, built.output
        assert re.search(f"  {re.escape(made)}.*creating the venv environment", built.stderr)
        try:
            images[made] = files_of(f"{image}:0.3.1")
        finally:
            for tag in ("0.3.1", "latest"):
                docker("image", "rm", "--force", f"{image}:{tag}", check=False)
    natively, by_emulation = images["natively on"], images["emulated ("]
    assert sorted(set(natively) - set(by_emulation)) == []
    assert sorted(set(by_emulation) - set(natively)) == []
    differ = [path for path in natively if natively[path] != by_emulation[path]]
    assert differ == [], differ[:20]
    assert "usr/bin/tini" in natively and "home/app/.bashrc" in natively
