"""The plan's values: what the image will be, one dataclass per block of the Dockerfile.

Made by ``decide.make_plan``; read by ``render`` (the templates), ``sources`` (what to stage)
and the builder. Nothing here reads a file or asks the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poetry_docker_plugin.lock.wheels import GLIBC_MAX_MINOR, Target
from poetry_docker_plugin.plan.layers import NO_LAYERS, LayersPlan

if TYPE_CHECKING:
    from poetry_docker_plugin.conda_lock.file import LockedPackage
    from poetry_docker_plugin.lock.model import LockedRequirement
    from poetry_docker_plugin.platforms import Platform


@dataclass(frozen=True)
class BaseImage:
    """What the plan needs to know of a base image, read from the image itself
    (``pipeline/base_probe``).

    ``id`` is None when the image was not looked at: the plan then follows the conventions of
    the published images, which is good enough to print a Dockerfile but not to build one.
    """

    reference: str
    id: str | None = None
    python: str | None = None  # venv: the X.Y of the image's python3
    envs_dir: str | None = None  # conda, micromamba: where the base keeps its environments
    label_keys: tuple[str, ...] = ()  # the base's labels, which the image would inherit
    glibc: str | None = None  # the version of its C library, when it is glibc ("2.36")
    # venv: whether python3's headers (Python.h) are there, which building a C extension
    # needs; Debian's python3 keeps them in python3.X-dev. None: not looked at.
    python_headers: bool | None = None
    # venv: python3's X.Y.Z and path, which a venv records (pyvenv.cfg, its bin/ links).
    python_release: str | None = None
    python_executable: str | None = None
    platform: str | None = None  # as its config says: "linux/arm64"
    manager: str | None = None  # the manager it holds, when asked (env-manager not set)

    @property
    def glibc_minor(self) -> int:
        """The glibc 2.N the image's wheels must run on; bookworm's when not known."""
        major, _, minor = (self.glibc or "").partition(".")
        return int(minor) if major == "2" and minor.isdigit() else GLIBC_MAX_MINOR

    @classmethod
    def from_facts(cls, reference: str, facts: Mapping[str, Any]) -> BaseImage:
        """From what the probe found (as kept in its JSON cache)."""
        return cls(
            reference,
            id=facts.get("id") or None,
            python=facts.get("python"),
            envs_dir=facts.get("envs_dir"),
            label_keys=tuple(facts.get("label_keys", ())),
            glibc=facts.get("glibc") or None,
            python_headers=facts.get("python_headers"),
            python_release=facts.get("python_release") or None,
            python_executable=facts.get("python_executable") or None,
            platform=facts.get("platform") or None,
            manager=facts.get("manager") or None,
        )


# (reference, manager) -> what the base image holds; the engine's look at it, cached per id.
BaseProbe = Callable[[str, str], BaseImage]


@dataclass(frozen=True)
class CondaChannel:
    """A conda channel as the Dockerfile names it, and the credentials kept out of it."""

    name: str  # a channel name, or a URL without credentials
    # "user:password", or "t/TOKEN" (anaconda.org's token in the path), from the setting's URL
    credentials: str = ""

    @classmethod
    def parse(cls, setting: str) -> CondaChannel:
        import re
        import urllib.parse

        parts = urllib.parse.urlsplit(setting)
        if parts.scheme not in ("http", "https"):
            return cls(setting)
        credentials, _, host = parts.netloc.rpartition("@")
        # anaconda.org's token goes in the path: https://conda.anaconda.org/t/TOKEN/channel
        token = re.match(r"/t/([^/]+)(/.*)?$", parts.path)
        path = parts.path
        if token:
            path = token.group(2) or "/"
            credentials = f"t/{token.group(1)}"
        return cls(urllib.parse.urlunsplit(parts._replace(netloc=host, path=path)), credentials)


@dataclass(frozen=True)
class EnvironmentPlan:
    """The ``FROM`` and environment steps: the base image, the manager and the prefix."""

    manager: str
    manager_reason: str
    base: BaseImage
    python: str
    python_reason: str
    name: str
    prefix: str
    conda_packages: tuple[str, ...]
    conda_channels: tuple[CondaChannel, ...]
    apt_packages: tuple[str, ...]
    platform: Platform  # the target: --platform, else the engine's own
    # The base of the runtime stage, into which the environment is copied; None: the image is
    # the environment's base itself (venv, the development image, `runtime-base = "base"`).
    runtime_base: BaseImage | None = None
    # From poetry-docker.lock when it is current (``plan.pinning``): the exact conda packages
    # to create the environment from, and base references pinned to their registry digest.
    locked_packages: tuple[LockedPackage, ...] = ()
    pinned_bases: tuple[tuple[str, str], ...] = ()  # (reference, reference@sha256:...)

    def from_reference(self, base: BaseImage) -> str:
        """What ``FROM`` names for ``base``: its locked digest when it came from a registry."""
        return dict(self.pinned_bases).get(base.reference, base.reference)

    @property
    def bases(self) -> tuple[BaseImage, ...]:
        """Every image the build starts from: inputs of the image like its sources."""
        return (self.base,) if self.runtime_base is None else (self.base, self.runtime_base)

    @property
    def machine(self) -> str:
        return self.platform.machine

    @property
    def bin_dir(self) -> str:
        return f"{self.prefix}/bin"

    @property
    def target(self) -> Target:
        """Where the locked packages run: this Python, machine and the last stage's glibc."""
        return Target(self.python, self.machine, self.bases[-1].glibc_minor)

    @property
    def activation(self) -> tuple[tuple[str, str], ...]:
        """The variables that activating the environment sets, known when the plan is made.

        Written into the image as ``ENV``, so that every way into a container (``docker
        exec``, ``--entrypoint``, a health check) finds the environment, and the entrypoint
        need not run conda's own Python at every start. ``PATH`` is prepended to the base's.
        """
        if self.manager == "venv":
            return (("VIRTUAL_ENV", self.prefix),)
        return (
            ("CONDA_PREFIX", self.prefix),
            ("CONDA_DEFAULT_ENV", self.name),
            ("CONDA_SHLVL", "1"),
            ("CONDA_PROMPT_MODIFIER", f"({self.name}) "),
        )

    @property
    def credentialed_channels(self) -> tuple[CondaChannel, ...]:
        return tuple(c for c in self.conda_channels if c.credentials)


@dataclass(frozen=True)
class DependenciesPlan:
    """The locked packages, sorted by how the image gets them, and where they come from."""

    compiled: tuple[LockedRequirement, ...]
    pure: tuple[LockedRequirement, ...]
    built: tuple[LockedRequirement, ...]
    vcs: tuple[LockedRequirement, ...]
    local_wheels: tuple[LockedRequirement, ...]
    local_sources: tuple[LockedRequirement, ...]
    build_tools: tuple[str, ...]
    groups: tuple[str, ...]
    extras: tuple[str, ...]
    indexes: tuple[tuple[str, str], ...]
    private_indexes: bool
    ca_bundle: bool
    # Sonames the in-image library check does not look for (the host provides them).
    ignore_libraries: tuple[str, ...] = ()
    # The hashed wheels (``compiled`` and ``pure`` that apply), grouped into layers.
    layers: LayersPlan = NO_LAYERS

    @property
    def wheels_stage_builds(self) -> tuple[LockedRequirement, ...]:
        """The dependencies the wheels stage builds (sdists, git commits, path projects)."""
        return self.built + self.vcs + self.local_sources

    @property
    def all(self) -> tuple[LockedRequirement, ...]:
        return (
            self.compiled + self.pure + self.built + self.vcs + self.local_wheels
            + self.local_sources
        )  # fmt: skip

    @property
    def ssh(self) -> tuple[str, ...]:
        """The git dependencies fetched over SSH, through the SSH agent the build forwards."""
        return tuple(r.name for r in self.vcs if r.uses_ssh)


@dataclass(frozen=True)
class ProjectPlan:
    """The project itself: its wheel (or its sources) and how it gets into the image."""

    name: str
    version: str
    package_mode: bool
    # Its wheel is built by pip in the wheels stage (a backend other than poetry-core).
    wheel_built_in_image: bool
    editable: bool
    # Files the command needs beside the package (the `include` setting): patterns with
    # .dockerignore's syntax, copied into the workdir after the package.
    include: tuple[str, ...] = ()

    @property
    def copies_included_files(self) -> bool:
        """A package's image gets them; others have every source, the development image mounts."""
        return bool(self.include) and self.package_mode and not self.editable


@dataclass(frozen=True)
class RuntimeUser:
    """Who containers run as (``USER``), and the account the image creates for it.

    ``account`` is created when the base has no such user: with ``uid`` when given, and in
    the group ``gid`` when given (the development image's copy of the host user, so that
    a shell has a name, a home and the host's ids).
    """

    user: str
    account: str | None = None
    uid: int | None = None
    gid: int | None = None

    @property
    def is_root(self) -> bool:
        return self.user == "0"


@dataclass(frozen=True)
class HostUser:
    """The user running ``poetry docker shell``, whom the development image gets an account for."""

    uid: int
    gid: int
    name: str


@dataclass(frozen=True)
class RuntimePlan:
    """How a container of the image runs: command, working directory, user, variables."""

    command: tuple[str, ...]
    workdir: str
    env: tuple[tuple[str, str], ...]
    ports: tuple[str, ...]
    user: RuntimeUser


@dataclass(frozen=True)
class ImageMetadata:
    """The names and labels of the image."""

    tags: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    # Bit-identical builds (``reproducible``): steps that write .pyc files or logs of the clock
    # are rendered to write none.
    reproducible: bool = False


@dataclass(frozen=True)
class NativeSteps:
    """A build for another platform whose environment and files are made on
    ``build_platform`` and copied into the target's stage (decided in ``plan/cross.py``)."""

    build_platform: str  # "linux/amd64": the engine's own
    debian_architecture: str  # the target's, as dpkg names it (tini's package)
    project: bool  # the project's own wheel is unpacked there too


@dataclass(frozen=True)
class BuildPlan:
    """What the image will be; rendered by ``render`` and staged by ``sources``.

    One sub-plan per block of the Dockerfile template, in the order the blocks come.
    """

    environment: EnvironmentPlan
    dependencies: DependenciesPlan
    project: ProjectPlan
    runtime: RuntimePlan
    metadata: ImageMetadata
    # A build for another platform whose environment is made on the build platform (only
    # copied into the target's stage); None: made by the target's own tools.
    native: NativeSteps | None = None

    @property
    def python(self) -> str:
        return self.environment.python

    @property
    def needs_builder(self) -> bool:
        """Whether a stage must build wheels that the lock has none of."""
        return bool(self.dependencies.wheels_stage_builds or self.project.wheel_built_in_image)

    @property
    def image(self) -> str:
        """The reference printed to the user and run by ``poetry docker run``."""
        return self.metadata.tags[0]
