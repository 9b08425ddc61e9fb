"""The plan: every decision about the image, taken once, before anything is rendered.

Which Python, which environment manager and base image, which locked requirements, which
command, tags and labels. The later stages only carry the plan out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from poetry_docker_plugin import poetry_compat
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.requirements import (
    GLIBC_MAX_MINOR,
    LockedRequirement,
    check_extras,
    index_options,
    locked_requirements,
)
from poetry_docker_plugin.sbom import SBOM_PATH

if TYPE_CHECKING:
    from collections.abc import Iterable

    from poetry.poetry import Poetry

    from poetry_docker_plugin.settings import Settings

# Minor versions that both conda-forge and the python.org images carry, newest first.
PYTHONS = ("3.14", "3.13", "3.12", "3.11", "3.10", "3.9", "3.8")
DEFAULT_BASE_IMAGES = {
    "conda": "condaforge/miniforge3:25.3.1-0",
    "micromamba": "mambaorg/micromamba:2.3.0-debian12-slim",
}
# Where conda and micromamba keep environments in the images they publish; used only when the
# base image could not be looked at (rendering with --print while it is not pulled yet).
CONVENTIONAL_ENVS_DIR = "/opt/conda/envs"
# The small image the conda and micromamba environments are copied into (`runtime-base`).
DEFAULT_RUNTIME_BASE = "debian:bookworm-slim"
VENV_PREFIX = "/opt/venv"
POETRY_CORE = "poetry.core.masonry.api"
LABEL_PREFIX = "dev.poetry-docker"
# The unprivileged user that generated images run as unless the `user` setting says otherwise.
DEFAULT_USER = "app"
DEFAULT_UID = 10001
FINGERPRINT_LABEL = f"{LABEL_PREFIX}.fingerprint"
# The OCI annotations the plugin sets from the project's metadata (empty where it has none).
OCI_KEYS = (
    "title", "version", "description", "authors", "licenses", "url", "source", "documentation",
)  # fmt: skip
INPUTS_LABEL = f"{LABEL_PREFIX}.inputs"
# Names the path of the image's SBOM (a CycloneDX JSON document; see sbom.py).
SBOM_LABEL = f"{LABEL_PREFIX}.sbom"


@dataclass(frozen=True)
class BaseImage:
    """What the plan needs to know of the base image, read from the image itself (``engine``).

    ``id`` is None when the image was not looked at: the plan then follows the conventions of
    the published images, which is good enough to print a Dockerfile but not to build one.
    """

    reference: str
    id: str | None = None
    python: str | None = None  # venv: the X.Y of the image's python3
    envs_dir: str | None = None  # conda, micromamba: where the base keeps its environments
    label_keys: tuple[str, ...] = ()  # the base's labels, which the image would inherit
    glibc: str | None = None  # the version of its C library, when it is glibc ("2.36")

    @property
    def glibc_minor(self) -> int:
        """The glibc 2.N the image's wheels must run on; bookworm's when not known."""
        major, _, minor = (self.glibc or "").partition(".")
        return int(minor) if major == "2" and minor.isdigit() else GLIBC_MAX_MINOR

    @classmethod
    def from_facts(cls, reference: str, facts: Mapping[str, Any]) -> BaseImage:
        """From what the engine found (as kept in its JSON cache)."""
        return cls(
            reference,
            id=facts.get("id") or None,
            python=facts.get("python"),
            envs_dir=facts.get("envs_dir"),
            label_keys=tuple(facts.get("label_keys", ())),
            glibc=facts.get("glibc") or None,
        )


# (reference, manager) -> what the base image holds; the engine's look at it, cached per id.
BaseProbe = Callable[[str, str], BaseImage]


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
    platform: str | None
    machine: str
    # The base of the runtime stage, into which the environment is copied; None: the image is
    # the environment's base itself (venv, the development image, `runtime-base = "base"`).
    runtime_base: BaseImage | None = None

    @property
    def base_image(self) -> str:
        return self.base.reference

    @property
    def bases(self) -> tuple[BaseImage, ...]:
        """Every image the build starts from: inputs of the image like its sources."""
        return (self.base,) if self.runtime_base is None else (self.base, self.runtime_base)

    @property
    def bin_dir(self) -> str:
        return f"{self.prefix}/bin"

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
class CondaChannel:
    """A conda channel as the Dockerfile names it, and the credentials kept out of it."""

    name: str  # a channel name, or a URL without credentials
    credentials: str = ""  # "user:password" or a token, from the setting's URL

    @classmethod
    def parse(cls, setting: str) -> CondaChannel:
        import urllib.parse

        parts = urllib.parse.urlsplit(setting)
        if parts.scheme not in ("http", "https") or "@" not in parts.netloc:
            return cls(setting)
        credentials, _, host = parts.netloc.rpartition("@")
        return cls(urllib.parse.urlunsplit(parts._replace(netloc=host)), credentials)


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

    @property
    def built_in_image(self) -> tuple[LockedRequirement, ...]:
        """The dependencies the wheels stage builds (sdists, git commits, path projects)."""
        return self.built + self.vcs + self.local_sources

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
    built_in_image: bool
    editable: bool
    # Files the command needs beside the package (the `include` setting): patterns with
    # .dockerignore's syntax, copied into the workdir after the package.
    include: tuple[str, ...] = ()

    @property
    def copies_included_files(self) -> bool:
        """A package's image gets them; others have every source, the development image mounts."""
        return bool(self.include) and self.package_mode and not self.editable


@dataclass(frozen=True)
class RuntimePlan:
    """How a container of the image runs: command, working directory, user, variables."""

    command: tuple[str, ...]
    workdir: str
    env: tuple[tuple[str, str], ...]
    ports: tuple[str, ...]
    user: RuntimeUser


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
class ImageMetadata:
    """The names and labels of the image."""

    tags: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class BuildPlan:
    """What the image will be; rendered by ``render`` and staged by ``context``.

    One sub-plan per block of the Dockerfile template, in the order the blocks come.
    """

    environment: EnvironmentPlan
    dependencies: DependenciesPlan
    project: ProjectPlan
    runtime: RuntimePlan
    metadata: ImageMetadata

    @property
    def python(self) -> str:
        return self.environment.python

    @property
    def needs_builder(self) -> bool:
        """Whether a stage must build wheels that the lock has none of."""
        return bool(self.dependencies.built_in_image or self.project.built_in_image)

    @property
    def image(self) -> str:
        """The reference printed to the user and run by ``poetry docker run``."""
        return self.metadata.tags[0]


def make_plan(
    poetry: Poetry,
    settings: Settings,
    groups: Iterable[str],
    *,
    tags: tuple[str, ...] = (),
    platform: str | None = None,
    probe_base: BaseProbe | None = None,
    editable: bool = False,
    host_user: HostUser | None = None,
) -> BuildPlan:
    """Decides everything about the image from the project, its lock and the settings.

    ``probe_base`` looks at the base image (its id, its Python, where conda keeps
    environments); without it the plan follows the conventions of the published images.
    ``editable`` plans the development image of ``poetry docker shell``: the project is
    installed in editable mode pointing at the working directory, where the working tree
    is mounted, and it is tagged ``<name>:dev``; it runs as ``host_user`` when given (Linux
    hosts), else as the runtime user.
    """
    extras = check_extras(poetry, settings.extras)
    requirements = locked_requirements(poetry, groups, extras)
    indexes = index_options(poetry, requirements)
    machine = machine_of(platform)
    project_in_image = _project_built_in_image(poetry, editable)
    manager, manager_reason = choose_env_manager(settings)
    reference = settings.base_image or DEFAULT_BASE_IMAGES.get(manager)
    if reference is None:  # venv on the python.org image of the chosen Python
        python, python_reason = choose_python(poetry, requirements, machine, settings.python)
        reference = f"python:{python}-slim-bookworm"
    base = probe_base(reference, manager) if probe_base else BaseImage(reference)
    runtime_base = _runtime_base(settings, manager, editable, probe_base, poetry)
    # Wheels must run on the C library of the image's last stage.
    glibc = (runtime_base or base).glibc_minor
    if manager == "venv":
        python, python_reason = _venv_python(poetry, settings, requirements, machine, base, glibc)
    else:
        python, python_reason = choose_python(poetry, requirements, machine, settings.python, glibc)
    name = image_name_for(poetry)
    version = declared_name_and_version(poetry)[1] or "latest"
    env_name = "venv" if manager == "venv" else name
    envs_dir = base.envs_dir or CONVENTIONAL_ENVS_DIR
    prefix = VENV_PREFIX if manager == "venv" else f"{envs_dir.rstrip('/')}/{env_name}"
    _check_workdir(settings.workdir, prefix, poetry)
    environment = EnvironmentPlan(
        manager=manager,
        manager_reason=manager_reason,
        base=base,
        python=python,
        python_reason=python_reason,
        name=env_name,
        prefix=prefix,
        conda_packages=settings.conda_packages,
        conda_channels=tuple(CondaChannel.parse(c) for c in settings.conda_channels),
        apt_packages=settings.apt_packages,
        platform=platform,
        machine=machine,
        runtime_base=runtime_base,
    )
    return BuildPlan(
        environment=environment,
        dependencies=_dependencies(
            requirements,
            python,
            machine,
            project_in_image,
            glibc=glibc,
            groups=tuple(sorted(groups)),
            extras=extras,
            indexes=indexes,
            ca_bundle=settings.ca_bundle is not None,
        ),
        project=ProjectPlan(
            name=name,
            version=version,
            package_mode=poetry.is_package_mode,
            built_in_image=project_in_image,
            editable=editable,
            include=settings.include,
        ),
        runtime=RuntimePlan(
            command=settings.command or default_command(poetry),
            workdir=settings.workdir,
            env=settings.env,
            ports=settings.ports,
            user=runtime_user(settings.user, host_user),
        ),
        metadata=ImageMetadata(
            tags=tags or _default_tags(settings, name, version, editable),
            labels=_labels(poetry, settings, environment.bases[-1].label_keys),
        ),
    )


def _runtime_base(
    settings: Settings,
    manager: str,
    editable: bool,
    probe_base: BaseProbe | None,
    poetry: Poetry,
) -> BaseImage | None:
    """The runtime stage's base: conda and micromamba environments run without their maker.

    The development image keeps the full base (people ``conda install`` there), and
    ``runtime-base = "base"`` keeps a single-stage image.
    """
    if manager == "venv":
        if settings.runtime_base not in (None, "base"):
            raise DockerPluginError(
                f"Invalid value for `runtime-base` in [tool.poetry-docker] of "
                f"{poetry.pyproject_path}: a runtime stage is made for the conda and micromamba "
                "managers; the venv manager runs on its base image's own Python. Remove the key, "
                "or choose the base image with `base-image`."
            )
        return None
    if editable or settings.runtime_base == "base":
        return None
    reference = settings.runtime_base or DEFAULT_RUNTIME_BASE
    return probe_base(reference, "runtime") if probe_base else BaseImage(reference)


def _check_workdir(workdir: str, prefix: str, poetry: Poetry) -> None:
    """The working directory, which the runtime user owns, must not hold the environment."""
    if workdir == prefix or prefix.startswith(f"{workdir}/") or workdir.startswith(f"{prefix}/"):
        raise DockerPluginError(
            f"Invalid value for `workdir` in [tool.poetry-docker] of {poetry.pyproject_path}: "
            f"{workdir!r} overlaps the environment at {prefix}, which the runtime user must not "
            "own. Use a directory of its own such as /app."
        )


def _dependencies(
    requirements: tuple[LockedRequirement, ...],
    python: str,
    machine: str,
    project_in_image: bool,
    *,
    glibc: int = GLIBC_MAX_MINOR,
    groups: tuple[str, ...],
    extras: tuple[str, ...],
    indexes: tuple[tuple[str, str], ...],
    ca_bundle: bool,
) -> DependenciesPlan:
    """Sorts the locked packages by how the image gets them.

    Wheels from indexes and URLs are installed with hashes, compiled ones in a layer of their
    own: they are the large ones, and rarely change, so that adding a small pure-Python
    package does not reinstall them. Sdists and git commits are built
    into wheels in a separate stage (with git and a compiler only when needed, so that the
    image itself carries neither); path dependencies are built on the host when poetry-core
    can build them, else in that stage too.
    """
    applying = [r for r in requirements if r.applies_to(python, machine)]
    local = [r for r in applying if r.is_local]
    wheels = tuple(r for r in local if _builds_on_host(r))
    sources = tuple(r for r in local if r not in wheels)
    built = tuple(r for r in applying if r.kind != "git" and r.needs_build(python, machine, glibc))
    vcs = tuple(r for r in applying if r.kind == "git")
    tools = []
    if vcs:
        tools.append("git")
    if any(r.uses_ssh for r in vcs):  # Debian's git only recommends ssh
        tools.append("openssh-client")
    if sources or project_in_image or any(r.needs_compiler(python, machine, glibc) for r in built):
        tools.append("build-essential")
    hashed = [r for r in requirements if not r.is_local and r.kind != "git" and r not in built]
    compiled = tuple(r for r in hashed if r in applying and r.is_compiled(python, machine, glibc))
    return DependenciesPlan(
        compiled=compiled,
        pure=tuple(r for r in hashed if r not in compiled),
        built=built,
        vcs=vcs,
        local_wheels=wheels,
        local_sources=sources,
        build_tools=tuple(tools),
        groups=groups,
        extras=extras,
        indexes=indexes,
        private_indexes=bool(indexes),
        ca_bundle=ca_bundle,
    )


def _project_built_in_image(poetry: Poetry, editable: bool) -> bool:
    """Whether the project's wheel is built by pip in the image: its backend is not poetry-core.

    The development image installs the project editable, which only poetry-core does here.
    """
    backend = poetry.pyproject.build_system.build_backend
    if not poetry.is_package_mode or backend == POETRY_CORE:
        return False
    if editable:
        raise DockerPluginError(
            f"{poetry.pyproject_path} builds with {backend!r}; `poetry docker shell` installs "
            "the project editable, which it does for poetry-core projects only. Set "
            "`package-mode = false` under [tool.poetry] to work on the mounted sources instead."
        )
    return True


def _builds_on_host(requirement: LockedRequirement) -> bool:
    """A wheel file, or a directory that poetry-core builds: no need to build in the image."""
    path = Path(requirement.source_url)
    if requirement.kind == "file":
        return path.suffix == ".whl"
    from poetry.core.pyproject.toml import PyProjectTOML

    pyproject = path / "pyproject.toml"
    return (
        pyproject.is_file() and PyProjectTOML(pyproject).build_system.build_backend == POETRY_CORE
    )


def choose_env_manager(settings: Settings) -> tuple[str, str]:
    """The setting when given, else inferred from the base image's name (conda by default)."""
    if settings.env_manager:
        return settings.env_manager, "set by env-manager"
    base = (settings.base_image or "").lower()
    if not base:
        return "conda", "the default, on the default Miniforge base image"
    repository = base.split("@")[0]
    name, _, tag = repository.rpartition(":")
    if name and "/" not in tag:  # a tag, not a registry's port (registry:5000/miniforge3)
        repository = name
    repository = repository.rsplit("/", 1)[-1]
    if "micromamba" in repository:
        return "micromamba", f"inferred from the base image {settings.base_image}"
    if any(word in repository for word in ("conda", "miniforge", "mambaforge")):
        return "conda", f"inferred from the base image {settings.base_image}"
    return "venv", f"inferred from the base image {settings.base_image} (not a conda image)"


def choose_python(
    poetry: Poetry,
    requirements: tuple[LockedRequirement, ...],
    machine: str,
    requested: str | None,
    glibc: int = GLIBC_MAX_MINOR,
) -> tuple[str, str]:
    """The newest Python the project allows for which every locked package is installable.

    "Installable" means a Linux wheel for that Python, or only an sdist (a package that
    publishes no wheels at all is meant to be built). A requested version is only checked
    against the project's constraint.
    """
    constraint = poetry.package.python_versions
    if requested:
        if not python_allowed(constraint, requested):
            raise DockerPluginError(
                f"Python {requested} (from --python or the `python` setting) is not allowed by "
                f"the project's python constraint {constraint!r} in {poetry.pyproject_path}. "
                "Choose a version the constraint allows, or change the constraint and run "
                "`poetry lock`."
            )
        return requested, "requested"
    allowed = [v for v in PYTHONS if python_allowed(constraint, v)]
    if not allowed:
        raise DockerPluginError(
            f"No Python that images carry ({', '.join(reversed(PYTHONS))}) is allowed by the "
            f"project's python constraint {constraint!r} in {poetry.pyproject_path}. Widen the "
            "constraint, or pass --python with a version your base image has."
        )
    blockers: dict[str, list[str]] = {}
    for python in allowed:
        missing = uninstallable(requirements, python, machine, glibc)
        if not missing:
            reason = "the newest the project allows"
            if python != allowed[0]:
                skipped = "; ".join(f"{v}: {', '.join(blockers[v])}" for v in blockers)
                reason = f"newer ones lack wheels ({skipped})"
            return python, reason
        blockers[python] = missing
    detail = "; ".join(f"{python}: {', '.join(missing)}" for python, missing in blockers.items())
    raise DockerPluginError(
        f"No Python allowed by {constraint!r} has Linux wheels for every locked package "
        f"({detail}). Pass --python to choose one anyway, or update those packages with "
        "`poetry update`."
    )


def uninstallable(
    requirements: Iterable[LockedRequirement],
    python: str,
    machine: str,
    glibc: int = GLIBC_MAX_MINOR,
) -> list[str]:
    """The packages that apply on this Python but could not be installed from the lock's files."""
    return [
        f"{r.name} {r.version}"
        for r in requirements
        if r.applies_to(python, machine)
        and not (r.allows_python(python) and r.has_wheel_or_sdist_for(python, machine, glibc))
    ]


def python_allowed(constraint: str, python: str) -> bool:
    from poetry.core.constraints.version import parse_constraint

    return not parse_constraint(constraint).intersect(parse_constraint(f"~{python}")).is_empty()


def _venv_python(
    poetry: Poetry,
    settings: Settings,
    requirements: tuple[LockedRequirement, ...],
    machine: str,
    base: BaseImage,
    glibc: int,
) -> tuple[str, str]:
    """The venv manager uses the base image's own Python, so that Python must fit the project."""
    tagged = re.match(r"(?:.*/)?python:(3\.\d+)", base.reference)
    if base.python:
        python, reason = base.python, f"found in the base image {base.reference}"
        if settings.python and settings.python != python:
            raise DockerPluginError(
                f"Python {settings.python} was requested (from --python or the `python` "
                f"setting), but the base image {base.reference} has Python {python}, and the "
                "venv manager uses the base image's own Python. Choose a base image with "
                f"Python {settings.python}, or drop the request."
            )
    elif tagged:
        python, reason = tagged.group(1), f"the Python of the base image {base.reference}"
    elif settings.python:
        python, reason = settings.python, "requested (the base image's Python is trusted to match)"
    else:
        raise DockerPluginError(
            f"Cannot tell which Python the base image {base.reference} has without the "
            "engine. Set `python` in [tool.poetry-docker] or pass --python."
        )
    if not python_allowed(poetry.package.python_versions, python):
        raise DockerPluginError(
            f"The base image {base.reference} has Python {python}, which the project's "
            f"python constraint {poetry.package.python_versions!r} in {poetry.pyproject_path} "
            "does not allow. Choose a base image with an allowed Python, or change the constraint."
        )
    missing = uninstallable(requirements, python, machine, glibc)
    if missing:
        raise DockerPluginError(
            f"The base image {base.reference} has Python {python}, but these locked packages "
            f"have no Linux wheel for it: {', '.join(missing)}. Choose a base image with another "
            "Python, or update those packages with `poetry update`."
        )
    return python, reason


def runtime_user(user: str | None, host: HostUser | None = None) -> RuntimeUser:
    """The USER of the image and the account to create for it.

    By default an ``app`` account with a fixed uid is created and used, so that the runtime
    is never root; ``user = "root"`` keeps root, a uid[:gid] is used as it is (no account
    needed), and a name is created when the base image does not have it. The development
    image (``host``) runs as the host's user, with an account of the same ids.
    """
    if host is not None:
        if host.uid == 0:
            return RuntimeUser("0")
        return RuntimeUser(f"{host.uid}:{host.gid}", host.name, host.uid, host.gid)
    if user is None:
        return RuntimeUser(str(DEFAULT_UID), DEFAULT_USER, DEFAULT_UID)
    if user in ("root", "0", "0:0"):
        return RuntimeUser("0")
    if user[0].isdigit():
        return RuntimeUser(user)
    return RuntimeUser(user, user)


@dataclass(frozen=True)
class HostUser:
    """The user running ``poetry docker shell``, whom the development image gets an account for."""

    uid: int
    gid: int
    name: str

    @classmethod
    def current(cls) -> HostUser | None:
        """The host's user, when the development image should run as them (see
        ``maps_host_user``); None when it runs as the image's own runtime user."""
        import getpass
        import os
        import sys

        if not maps_host_user(sys.platform) or not hasattr(os, "getuid"):
            return None
        try:
            name = getpass.getuser()
        except (KeyError, OSError, ImportError):  # no passwd entry on the host either
            name = "dev"
        if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", name):
            name = "dev"
        return cls(os.getuid(), os.getgid(), name)


def maps_host_user(platform: str) -> bool:
    """Whether the development image gets an account with the host user's uid and gid.

    Only a Linux host needs it: there the engine runs on the same kernel, so the bind-mounted
    working tree keeps the host's ownership, and files the shell writes must be the host
    user's. Docker Desktop on macOS and Windows shares files into its VM and maps their
    ownership itself (what the Dev Containers CLI relies on: its ``updateRemoteUserUID`` applies
    on Linux only); a Windows host has no uid at all. ``platform`` is a ``sys.platform`` value.
    """
    return platform.startswith("linux")


def machine_of(platform: str | None) -> str:
    """The Linux machine name (as in wheel tags) for a ``--platform`` such as ``linux/arm64``."""
    import platform as host

    if not platform:
        machine = host.machine().lower()
        return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    arch = platform.split("/")[1] if "/" in platform else platform
    return {
        "amd64": "x86_64",
        "arm64": "aarch64",
        "386": "i686",
        "ppc64le": "ppc64le",
        "s390x": "s390x",
    }.get(arch, arch)


def declared_name_and_version(poetry: Poetry) -> tuple[str | None, str | None]:
    """The project's name and version as pyproject.toml declares them, if it does.

    A ``package-mode = false`` project need not declare either; when it does (under
    ``[project]`` or ``[tool.poetry]``), its image is named after them like a package's.
    """
    if poetry.is_package_mode:
        return poetry.package.name, str(poetry.package.version)
    data = poetry.pyproject.data
    sections = [data.get("project", {}), data.get("tool", {}).get("poetry", {})]
    name = next((s["name"] for s in sections if isinstance(s.get("name"), str)), None)
    version = next((s["version"] for s in sections if isinstance(s.get("version"), str)), None)
    return name, version


def image_name_for(poetry: Poetry) -> str:
    """The project's name as an image repository name (lowercase, docker's separators).

    A project without a declared name is named after its directory.
    """
    name = declared_name_and_version(poetry)[0] or poetry.pyproject_path.parent.name
    name = re.sub(r"[^a-z0-9._-]+", "-", canonicalize_name(name)).strip("._-")
    return name or "app"


def default_command(poetry: Poetry) -> tuple[str, ...]:
    """The project's one console script, else ``python``."""
    scripts = (
        poetry.package.entry_points.get("console-scripts", {}) if poetry.is_package_mode else {}
    )
    return (next(iter(scripts)),) if len(scripts) == 1 else ("python",)


def _default_tags(settings: Settings, name: str, version: str, editable: bool) -> tuple[str, ...]:
    repository = settings.image or name
    if editable:
        return (f"{repository}:dev",)
    tag_names = settings.tags or (re.sub(r"[^\w.-]", "-", version), "latest")
    return tuple(dict.fromkeys(f"{repository}:{tag}" for tag in tag_names))


def _labels(
    poetry: Poetry, settings: Settings, base_labels: tuple[str, ...] = ()
) -> tuple[tuple[str, str], ...]:
    """OCI labels from the project's metadata, the SBOM's path, then the user's labels (which
    win)."""
    package = poetry.package
    oci = "org.opencontainers.image"
    labels: dict[str, str] = {}
    if poetry.is_package_mode:
        license_name = poetry_compat.license_of(package)
        candidates = {
            f"{oci}.title": package.pretty_name,
            f"{oci}.version": str(package.version),
            f"{oci}.description": package.description,
            f"{oci}.authors": ", ".join(package.authors),
            f"{oci}.licenses": str(license_name) if license_name else "",
            f"{oci}.url": package.homepage or "",
            f"{oci}.source": package.repository_url or "",
            f"{oci}.documentation": package.documentation_url or "",
        }
        labels.update({k: " ".join(v.split()) for k, v in candidates.items()})
    # A key the project has no value for is set empty, not inherited from the base image.
    labels.update({f"{oci}.{key}": "" for key in OCI_KEYS if f"{oci}.{key}" not in labels})
    labels.update(
        {key: "" for key in base_labels if key.startswith(f"{oci}.") and key not in labels}
    )
    labels[SBOM_LABEL] = SBOM_PATH
    labels.update(settings.labels)
    return tuple(labels.items())
