"""The benchmark's results, typed: what each measurement returns, and the rows of the table.

Frozen values, so that the report's arithmetic can be checked on results built in memory
(tests/unit/bench/) without an engine, and nothing downstream can change what was measured.
Times are in seconds, sizes in bytes; None is a figure that could not be measured (a cold-only
manager's no-change build, a ``run`` that failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Unit(Enum):
    """What a row's figures count."""

    SECONDS = "s"
    BYTES = "B"


@dataclass(frozen=True)
class CommandTimes:
    """The sub-second commands, medians of their interleaved samples."""

    startup: float  # `poetry --version` with the plugin installed
    plain_startup: float  # the same Poetry without it
    render: float  # `poetry docker build --print`
    check_lock: float  # `poetry check --lock`: also the floor rows' Poetry part


@dataclass(frozen=True)
class LargeProjectTimes:
    """No-change `poetry docker run -- true`, medians: the example with 20,000 more files, and
    the example itself."""

    large: float
    small: float


@dataclass(frozen=True)
class BuildChecks:
    """The side conditions of a manager's rows that failed, each a reason ("" when it held):
    any of them turns its row's PASS into a MISS."""

    no_change_build: str = ""
    source_edit: str = ""
    dependency_change: str = ""
    run: str = ""
    activation: str = ""


@dataclass(frozen=True)
class BuildTimes:
    """One manager's builds, runs and sizes, medians over the repetitions.

    A cold-only manager has the cold build and the sizes alone: the other times are None.
    """

    cold: float
    size: float  # the final image, every layer
    base_size: float  # the base of the final stage
    content: float  # du -sbc of the environment's prefix and the workdir, in the image
    content_paths: str  # what ``content`` counted, e.g. "/opt/venv + /app"
    checks: BuildChecks
    no_change: float | None = None
    docker_build: float | None = None  # the cached `docker build` of the --output context
    warm: float | None = None  # `--no-cache` with pip's and conda's caches warm
    edit: float | None = None
    dependency: float | None = None
    run: float | None = None  # `poetry docker run -- true`, image up to date
    docker_run: float | None = None  # `docker run --rm IMAGE true`
    activation: float | None = None  # `docker run --rm IMAGE true`, through the entrypoint
    bare_entrypoint: float | None = None  # `docker run --rm --entrypoint true IMAGE`
    run_error: str = ""  # why `run` could not be measured, if it could not

    @property
    def over_base(self) -> float:
        """What the image adds to the base of its final stage."""
        return self.size - self.base_size


@dataclass(frozen=True)
class DockerizeTimes:
    """poetry-dockerize-plugin 1.3.1 on the same project, medians."""

    cold: float
    no_change: float
    edit: float
    size: float
    base_size: float  # its stand-in base
    stopped_containers: int  # left by one build sequence (it builds with rm=False)

    @property
    def over_base(self) -> float:
        return self.size - self.base_size


@dataclass(frozen=True)
class Row:
    """One line of the table: a measured figure against its baseline, and the target ratio."""

    name: str
    measured: float | None
    baseline: float | None
    baseline_name: str
    target: float | None  # the highest ratio that passes; None: the ratio is only stated
    unit: Unit = Unit.SECONDS
    check: str = ""  # a failed side condition, which turns a PASS into a MISS
    dockerize: float | None = None
    manager: str = ""  # the manager and base image the row was measured with, if one

    @property
    def ratio(self) -> float | None:
        """measured / baseline; None when either is missing, or the baseline is zero (a
        measured zero is a ratio: no bytes pushed)."""
        if self.measured is not None and self.baseline:
            return self.measured / self.baseline
        return None

    @property
    def result(self) -> str:
        """PASS or MISS against the target, "stated" without one, "-" without a baseline,
        "n/a" when a figure is missing."""
        ratio = self.ratio
        if self.baseline is None and self.measured is not None:
            return "-"
        if ratio is None:
            return "n/a"
        if self.target is None:
            return "stated"
        return "PASS" if ratio <= self.target and not self.check else "MISS"

    @property
    def key(self) -> tuple[str, str, str]:
        """What tells a row from the others of the same name: its manager and its baseline."""
        return self.name, self.manager, self.baseline_name


@dataclass(frozen=True)
class ReproducibleTimes:
    """The venv builds with ``--reproducible`` (Docker 20.10: save, rewrite, load), medians."""

    cold: float  # after the build cache is pruned, as the plain cold build
    edit: float  # after the same one-line edit as the plain source edit


@dataclass(frozen=True)
class ForeignTimes:
    """The venv copy of the example built for the foreign platform (linux/arm64 on this amd64
    engine), medians; and pushed for both platforms as one index, when measured."""

    cold: float  # after the build cache is pruned, as the native cold build
    no_change: float
    edit: float  # after the same one-line edit as the native source edit
    two_platform_push: float | None = None  # cold, both platforms built and pushed
    no_change_check: str = ""  # why the no-change build was none, if it rebuilt
    # cold, on a base without a variant for the engine's platform: every step emulated
    cold_emulated: float | None = None


@dataclass(frozen=True)
class PushBytes:
    """Bytes the registry received per push of one tool's image of bench/projects/layers-app,
    one change after the other, medians (a registry of its own, empty at the cold push)."""

    cold: float  # the whole image, the base's layers included
    no_change: float
    edit: float  # a one-line edit of the project's source
    small_bump: float  # one small compiled package to its previous release, in the lock alone
    large_bump: float  # then the large package (numpy) to its previous release


@dataclass(frozen=True)
class LayerPushes:
    """The bytes-pushed rows' figures: ours, poetry-dockerize's when measured, and what the
    targets are counted from, all read from our cold image."""

    ours: PushBytes
    cold: float  # seconds: our cold build and push
    small_bump: float  # seconds: our build and push of the small bump
    environment: float  # the environment's prefix + the workdir, du -sbc in the image
    wheel: float  # the project's own wheel
    large_package: float  # the large package as installed: its folders and dist-info
    dockerize: PushBytes | None = None  # None: not measured (--quick without --heavy)
    bumps: str = ""  # what the bumps changed, e.g. "pyyaml 6.0.4 -> 6.0.3, numpy ..."
    edit_check: str = ""  # why the source edit's figures are not an edit's, if they are not


@dataclass(frozen=True)
class Measurements:
    """Everything one run measured, for the report."""

    commands: CommandTimes
    large: LargeProjectTimes
    builds: dict[str, BuildTimes]  # by Manager.key, every manager of config.MANAGERS
    dockerize: DockerizeTimes
    foreign: ForeignTimes
    reproducible: ReproducibleTimes
    layers: LayerPushes
