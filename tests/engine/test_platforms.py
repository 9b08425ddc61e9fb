"""Building for another architecture: ``--platform linux/arm64`` on the offline arm64 test base,
run under QEMU user emulation.

Emulated builds are slow (every RUN step executes arm64 code on this machine's CPU), so one
build of the shipped example serves every assertion here; the image is run once, by a probe
that reports what the emulated container sees.
"""

from __future__ import annotations

import json
from pathlib import Path

import tomllib
from conftest import configure, copy_fixture, docker, run_poetry
from packaging.utils import parse_wheel_filename

# Run inside the image, by the environment's Python: the machine, the installed numpy and the
# tags of the wheel it came from (pip copies them into .dist-info/WHEEL), its compiled modules,
# and the SBOM's hash of it. The project's own code runs too (numpy and pandas).
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


def test_example_for_arm64_runs_under_emulation(
    tmp_path: Path, arm64_base_image: str, image_tag: str
) -> None:
    """The example built for linux/arm64 with the venv manager is an arm64 image whose numpy is
    the lock's aarch64 wheel, and it runs (under emulation) on aarch64."""
    project = copy_fixture("examples/sample-app", tmp_path)
    configure(project, base_image=arm64_base_image, env_manager="venv")
    # Always explicit: without --platform the target is the engine's (amd64 here).
    result = run_poetry(
        project, "docker", "build", "--platform", "linux/arm64", "--tag", image_tag
    )
    assert result.returncode == 0, result.output

    architecture = docker("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", image_tag)
    assert architecture.stdout.strip() == "linux/arm64"

    run = docker("run", "--rm", "--platform", "linux/arm64", image_tag, "python", "-c", PROBE)
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
