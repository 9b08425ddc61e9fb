"""What the benchmark measures, and with what: paths, images, the environment managers.

Fixed facts only, no behaviour, so that every other module reads the same names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
SAMPLE = ROOT / "examples" / "sample-app"
# The documentation site's benchmarks page holds the record of a full run (--record writes it).
RECORD_PAGE = ROOT / "docs" / "benchmarks.md"
POETRY = ROOT / ".venv" / "bin" / "poetry"
DOCKER = os.environ.get("POETRY_DOCKER_ENGINE") or "/usr/bin/docker"
BASE_IMAGE = os.environ.get("TEST_BASE_IMAGE") or "poetry-docker-test-base:bookworm"
PYTHON = "3.11"  # the Python of the test base image (Debian bookworm)
# The offline Miniforge stand-in (design.md): a real conda whose local channel has python 3.11,
# pip and actdemo only (actdemo's activate.d script exports ACTDEMO=1).
CONDA_BASE_IMAGE = os.environ.get("CONDA_TEST_BASE_IMAGE") or "miniforge-standin:25.3.1"
# The test base for linux/arm64 (scripts/test-base-image.sh IMAGE arm64), whose programs run
# under QEMU user emulation here: the base of the foreign platform's builds (the engine is amd64).
ARM64_BASE_IMAGE = (
    os.environ.get("ARM64_TEST_BASE_IMAGE") or "poetry-docker-test-base:bookworm-arm64"
)
FOREIGN_PLATFORM = "linux/arm64"
# Our images get names of their own, so that the benchmark never replaces anyone's sample-app.
IMAGE = "poetry-docker-bench/sample-app"
BASELINE_IMAGE = "poetry-docker-bench/docker-build"
# A small pure package that is not in the sample's lock yet (six is: python-dateutil needs it).
EXTRA_PACKAGE = "tabulate (>=0.9,<1)"
DOCKERIZE = ("poetry==1.8.5", "poetry-dockerize-plugin==1.3.1")
DOCKERIZE_IMAGE = "poetry-docker-bench/dockerize-sample-app"
# poetry-dockerize's default base is python:3.11-slim-bookworm, which no registry serves here:
# a stand-in under a name of the benchmark's own (DOCKERIZE_BASE_IMAGE points the plugin at it).
STAND_IN = f"poetry-docker-bench/python:{PYTHON}-slim-bookworm"
# The sub-second rows (start-up, render, activation, the large project) take this many samples
# per repetition, measured and baseline interleaved: they are cheap and noisy.
SAMPLES_PER_REP = 8


@dataclass(frozen=True)
class CondaSettings:
    """The [tool.poetry-docker] keys a conda copy of the example adds: the stand-in's channel
    has only Python 3.11, and actdemo's activate.d script gives activation something to do."""

    python: str
    conda_packages: tuple[str, ...]


@dataclass(frozen=True)
class Manager:
    """An environment manager on its base image(s): the build rows are measured once per
    manager, each on a copy of the example whose [tool.poetry-docker] names them, and an image
    name of its own."""

    key: str  # names the manager's working copy, logs and --output context under bench/work
    name: str  # the env-manager setting
    base: str
    image: str
    env_step: str  # what the environment's RUN step runs: a lock change must leave it CACHED
    conda: CondaSettings | None = None
    # Variables that only the entrypoint's activation sets (activate.d scripts): a check that
    # it ran, beside the activation row's timing.
    activated: tuple[tuple[str, str], ...] = ()
    # The runtime-base setting (conda): an image for the runtime stage, or "base" for a single
    # stage; empty: not set (venv images have one stage anyway).
    runtime_base: str = ""
    # Only the cold build and the sizes, not every row: a variant compared by size.
    cold_only: bool = False

    @property
    def final_base(self) -> str:
        """The base of the image's final stage: what its size over its base is counted from."""
        return self.base if self.runtime_base in ("", "base") else self.runtime_base

    @property
    def label(self) -> str:
        """The table's `manager, base` cell."""
        if self.runtime_base == "base":
            return f"{self.name} single-stage, {self.base}"
        if self.runtime_base:
            return f"{self.name}, {self.base} -> {self.runtime_base}"
        return f"{self.name}, {self.base}"


VENV = Manager("venv", "venv", BASE_IMAGE, IMAGE, "-m venv")
CONDA_SETTINGS = CondaSettings(python=PYTHON, conda_packages=("actdemo",))
# The default layout: the environment made FROM the conda base, copied into a runtime stage.
# Its default runtime base (debian:bookworm-slim) cannot be pulled here: the test base instead.
CONDA = Manager(
    "conda",
    "conda",
    CONDA_BASE_IMAGE,
    f"{IMAGE}-conda",
    "conda create",
    CONDA_SETTINGS,
    activated=(("ACTDEMO", "1"),),
    runtime_base=BASE_IMAGE,
)
# runtime-base = "base": one stage FROM the conda base, the layout before the runtime stage.
CONDA_SINGLE = Manager(
    "conda-single",
    "conda",
    CONDA_BASE_IMAGE,
    f"{IMAGE}-conda-single",
    "conda create",
    CONDA_SETTINGS,
    runtime_base="base",
    cold_only=True,
)
MANAGERS = (VENV, CONDA, CONDA_SINGLE)
# The venv copy built with --platform linux/arm64 on the arm64 test base: its cold build,
# no-change build and source edit, beside the native ones (not one of MANAGERS: no sizes).
VENV_ARM64 = Manager("venv-arm64", "venv", ARM64_BASE_IMAGE, f"{IMAGE}-arm64", "-m venv")
# The no-change run must cost what changed, not what exists: the example with this many more
# small modules in its package, against the example itself, both on venv, under names of their own.
LARGE_FILES = 20_000
LARGE = Manager("large", "venv", BASE_IMAGE, f"{IMAGE}-large", "-m venv")
SMALL = Manager("small", "venv", BASE_IMAGE, f"{IMAGE}-small", "-m venv")
# The foreign platform's rows (issue 32): the venv copy above built for linux/arm64, and the
# example pushed for both platforms as one index, on the two test bases pushed as one reference
# to the benchmark's registry (no registry outside serves a base for both).
TWO_PLATFORMS = "linux/amd64,linux/arm64"
TWO_PLATFORM_BASE = "poetry-docker-bench/base:bookworm"  # in the benchmark's registry
# The bytes a push sends per change (issue 33): a project of its own, bench/projects/layers-app,
# whose lock holds one large package, a dozen small compiled ones and a dozen pure ones; pushed
# to a registry of the benchmark's own (bench/registry.py). Its image name is given the
# registry's host when the registry runs. The bumps change the lock alone, each package to its
# previous release: the small one first, then the large one on top of it.
LAYERS_PROJECT = ROOT / "bench" / "projects" / "layers-app"
LAYERS = Manager("layers", "venv", BASE_IMAGE, "poetry-docker-bench/layers-app", "-m venv")
LAYERS_EDITED = "layers_app/report.py"
SMALL_BUMP = "pyyaml"
LARGE_BUMP = "numpy"
DOCKERIZE_LAYERS_IMAGE = "poetry-docker-bench/dockerize-layers-app"
