"""The locked requirements of the selected groups and extras, read through Poetry's own API.

The walk over the lock is poetry-plugin-export's (the same one ``poetry export`` uses), so the
requirements installed in an image are exactly the ones a user would export by hand. This
module keeps what the plan needs of each: the pinned line with hashes and markers for pip, and
the file names and Python range that decide which Python the image can have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.markers import Marker
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from poetry_docker_plugin import poetry_compat
from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from packaging.utils import NormalizedName
    from poetry.poetry import Poetry

HASH_ALGORITHMS = ("sha256", "sha384", "sha512")
# The glibc that images are assumed to carry (Debian bookworm's) when the base image could not
# be looked at; wheels that need a newer one than the image's are not counted as installable.
GLIBC_MAX_MINOR = 36
# A patch release above any that CPython makes, standing for "the newest" in markers.
HIGHEST_PATCH = 999
# Marker variables whose value depends on the patch release, which the plan does not know.
PATCH_LEVEL_VARIABLES = ("python_full_version", "implementation_version")


@dataclass(frozen=True)
class LockedRequirement:
    """One locked package to install: pinned, hashed, with the marker under which it applies.

    ``kind`` says where the lock takes it from: ``index`` (PyPI or a source of the project,
    ``source_url``), ``url`` (an archive at ``source_url``), ``git`` (``source_url`` at commit
    ``reference``), ``directory`` or ``file`` (a path on the host, ``source_url``).
    """

    name: str
    version: str
    marker: str
    hashes: tuple[str, ...]
    files: tuple[str, ...]
    python_versions: str
    source_url: str = ""
    kind: str = "index"
    reference: str = ""
    subdirectory: str = ""
    # (file name, pip hash) of each locked file: the SBOM names the one installed.
    file_hashes: tuple[tuple[str, str], ...] = ()

    def line(self) -> str:
        """The requirement as a pip requirements-file entry (hashed, except git commits)."""
        if self.kind == "git":
            text = f"{self.name} @ git+{self.git_url}@{self.reference}"
            if self.subdirectory:
                text += f"#subdirectory={self.subdirectory}"
        elif self.kind == "url":
            text = f"{self.name} @ {self.source_url}"
        else:
            text = f"{self.name}=={self.version}"
        if self.marker:
            text += f" ; {self.marker}"
        return text + "".join(f" \\\n    --hash={h}" for h in self.hashes)

    @property
    def pin(self) -> str:
        """``name==version``, to install the package from a directory of wheels.

        A marker that tells patch releases apart stays on it: the plan keeps the packages that
        may apply on the image's Python (see ``applies_to``), and pip skips those that do not,
        whose wheels the wheels stage did not build either. Other markers hold for every
        package planned, and are left out.
        """
        pin = f"{self.name}=={self.version}"
        if any(variable in self.marker for variable in PATCH_LEVEL_VARIABLES):
            pin += f" ; {self.marker}"
        return pin

    @property
    def git_url(self) -> str:
        """The repository as a URL for pip's ``git+`` requirements, as poetry-core writes it.

        An scp-like ``git@github.com:org/repo.git`` is no URL to pip (nor to PEP 508): it
        becomes ``ssh://git@github.com/org/repo.git``.
        """
        from poetry.core.vcs.git import ParsedUrl

        url = self.source_url.removeprefix("git+")
        return url if "://" in url else ParsedUrl.parse(url).url

    @property
    def uses_ssh(self) -> bool:
        """Whether it is a git dependency fetched over SSH (with the user's key, as a rule)."""
        return self.kind == "git" and self.git_url.startswith("ssh://")

    @property
    def is_local(self) -> bool:
        return self.kind in ("directory", "file")

    def needs_build(self, python: str, machine: str, glibc: int = GLIBC_MAX_MINOR) -> bool:
        """Whether pip has to build it in the image: a git commit, or no wheel for this Python."""
        if self.kind == "git":
            return True
        return self.kind in ("index", "url") and not self.has_wheel_for(python, machine, glibc)

    def needs_compiler(self, python: str, machine: str, glibc: int = GLIBC_MAX_MINOR) -> bool:
        """Whether building it probably compiles code: it ships binary wheels, none for us.

        A package whose only files are an sdist or pure-Python wheels is taken as pure
        Python, so that images get a compiler only when the lock needs one.
        """
        binary = [t for t in map(_wheel_tags, self.files) if t and any(x.abi != "none" for x in t)]
        return bool(binary) and self.needs_build(python, machine, glibc)

    def is_compiled(self, python: str, machine: str, glibc: int = GLIBC_MAX_MINOR) -> bool:
        """Whether the wheel pip picks for this Python holds compiled code (a binary wheel)."""
        supported = supported_tags(python, machine, glibc)
        return any(
            tag.abi != "none"
            for tags in map(_wheel_tags, self.files)
            if tags
            for tag in tags & supported
        )

    def has_wheel_for(self, python: str, machine: str, glibc: int = GLIBC_MAX_MINOR) -> bool:
        """Whether a wheel of the lock installs on this Python, machine and glibc 2.``glibc``."""
        supported = supported_tags(python, machine, glibc)
        return any(tags & supported for tags in map(_wheel_tags, self.files) if tags)

    def applies_to(self, python: str, machine: str) -> bool:
        """Whether the marker may select this package on Linux ``machine`` with Python ``python``.

        The image's patch release is not known when the plan is made, so a marker that tells
        patch releases apart (``python_full_version >= "3.8.1"``) applies when it does for
        any of them; the package keeps its marker, and pip in the image decides.
        """
        if not self.marker:
            return True
        marker = Marker(self.marker)
        return any(
            marker.evaluate(linux_environment(python, machine, patch))
            for patch in patch_releases(self.marker, python)
        )

    def allows_python(self, python: str) -> bool:
        from poetry.core.constraints.version import parse_constraint

        return (
            not parse_constraint(self.python_versions)
            .intersect(parse_constraint(f"~{python}"))
            .is_empty()
        )

    def has_wheel_or_sdist_for(
        self, python: str, machine: str, glibc: int = GLIBC_MAX_MINOR
    ) -> bool:
        """True when pip can install it without compiling, or it is meant to be built.

        A package that publishes wheels but none for this Python would be compiled from its
        sdist: slow, and usually failing for lack of a compiler. That Python is not a good one.
        Packages with only an sdist, git commits and local paths are meant to be built.
        """
        if self.kind in ("git", "directory"):
            return True
        if not any(map(_wheel_tags, self.files)):
            return bool(self.files)
        return self.has_wheel_for(python, machine, glibc)


def requirements_text(
    requirements: Iterable[LockedRequirement], indexes: Iterable[tuple[str, str]] = ()
) -> str:
    """The requirements file the image's pip installs with ``--require-hashes --no-deps``.

    Index URLs never carry credentials: those reach pip as a build secret. Without
    requirements there is no file to write, and the text is empty.
    """
    requirements = list(requirements)
    if not requirements:
        return ""
    indexes = list(indexes)
    lines = [f"{option} {url}" for option, url in indexes]
    lines += [f"--trusted-host {host}" for host in trusted_hosts(url for _, url in indexes)]
    lines += [r.line() for r in requirements]
    header = "# Generated by poetry-docker-plugin from poetry.lock: do not edit.\n"
    return header + "".join(f"{line}\n" for line in lines)


def trusted_hosts(urls: Iterable[str]) -> list[str]:
    """``host[:port]`` of each plain-``http`` index, which pip ignores unless it is trusted.

    Hashes pin every file, so trusting the transport of an index the project chose adds no
    way to install other files than the locked ones.
    """
    import urllib.parse

    hosts = []
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "http" and parts.hostname:
            host = parts.hostname + (f":{parts.port}" if parts.port else "")
            if host not in hosts:
                hosts.append(host)
    return hosts


def pip_hash(value: str) -> str | None:
    """A lock's file hash as pip's ``--hash`` takes it (``algorithm:hex``); None if pip can't.

    The oldest locks (``[metadata.hashes]``) hold bare sha256 digests; pip refuses algorithms
    weaker than sha256 (md5 in old locks), so those are left out.
    """
    algorithm, colon, digest = value.partition(":")
    if not colon and re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return f"sha256:{value.lower()}"
    return value if colon and algorithm in HASH_ALGORITHMS and digest else None


def index_options(
    poetry: Poetry, requirements: Iterable[LockedRequirement]
) -> tuple[tuple[str, str], ...]:
    """pip's ``--index-url``/``--extra-index-url`` for the sources the lock was resolved against.

    As with Poetry, PyPI stays the default index unless the project's primary source
    replaces it; supplemental and explicit sources that locked packages come from are added
    as extra indexes (hashes pin every file, so no index can substitute another package).
    """
    from poetry.repositories.http_repository import HTTPRepository

    used = {r.source_url.rstrip("/") for r in requirements if r.kind == "index" and r.source_url}
    repositories = [r for r in poetry.pool.all_repositories if isinstance(r, HTTPRepository)]
    has_pypi = any(r.name.lower() == "pypi" for r in poetry.pool.all_repositories)
    options: list[tuple[str, str]] = []
    for repository in repositories:
        if repository.name.lower() == "pypi":
            continue
        url = repository.url.rstrip("/")
        first = not has_pypi and not options and repository is poetry.pool.repositories[0]
        if first:
            options.append(("--index-url", url))
        elif url in used:
            options.append(("--extra-index-url", url))
    return tuple(options)


def check_lock(poetry: Poetry) -> None:
    """Refuses a missing or stale lock, as ``poetry install`` would."""
    locker = poetry.locker
    if not locker.is_locked():
        raise DockerPluginError(
            f"No poetry.lock found beside {poetry.pyproject_path}. The image is built from the "
            "lock file: run `poetry lock` first."
        )
    try:
        fresh = locker.is_fresh() and bool(locker.lock_data)
    except Exception as error:  # tomllib's and Poetry's own parse errors alike
        raise DockerPluginError(
            f"{locker.lock} cannot be read ({' '.join(str(error).split())}). Run "
            "`poetry lock` to write it anew."
        ) from None
    if not fresh:
        raise DockerPluginError(
            f"{locker.lock} is out of date with {poetry.pyproject_path}: pyproject.toml changed "
            "significantly since the lock was written. Run `poetry lock` to update it."
        )


def locked_requirements(
    poetry: Poetry, groups: Iterable[str], extras: Iterable[str]
) -> tuple[LockedRequirement, ...]:
    """Walks the lock for ``groups`` and ``extras``, like ``poetry export --with-hashes``."""
    from poetry.core.packages.utils.utils import create_nested_marker
    from poetry.core.version.markers import parse_marker
    from poetry_plugin_export.walker import (
        DependencyWalkerError,
        get_project_dependency_packages,
        get_project_dependency_packages2,
    )

    locker = poetry.locker
    chosen_groups = {canonicalize_name(g) for g in groups}
    chosen_extras = frozenset(canonicalize_name(e) for e in extras)
    python_marker = parse_marker(
        create_nested_marker("python_version", poetry.package.python_constraint)
    )
    if locker.is_locked_groups_and_markers():
        walk = get_project_dependency_packages2(
            locker, project_python_marker=python_marker, groups=chosen_groups, extras=chosen_extras
        )
    else:
        root = poetry.package.with_dependency_groups(list(chosen_groups), only=True)
        walk = get_project_dependency_packages(
            locker,
            project_requires=root.all_requires,
            root_package_name=root.name,
            project_python_marker=python_marker,
            extras=chosen_extras,
        )
    try:
        walked = list(walk)
    except (DependencyWalkerError, RuntimeError) as error:
        # Locks without groups and markers (Poetry 1.x) are walked package by package; a lock
        # that misses a required package or elects two versions of one fails the walk.
        detail = " ".join(str(error).split()).rstrip(".")
        raise DockerPluginError(
            f"The dependencies locked in {locker.lock} cannot be followed from the project's "
            f"requirements ({detail}). The lock was probably written by an older Poetry or "
            "edited by hand: run `poetry lock` to write it anew."
        ) from None
    requirements = []
    for dependency_package in walked:
        package = dependency_package.package
        kind = {None: "index", "legacy": "index"}.get(package.source_type, package.source_type)
        if kind not in ("index", "url", "git", "directory", "file"):
            raise DockerPluginError(
                f"{package.pretty_name} is locked from a {package.source_type} source "
                f"({package.source_url}) in {locker.lock}, which the image cannot install. "
                "Depend on it from a package index, a URL, a git repository or a path instead."
            )
        if kind in ("directory", "file") and not Path(package.source_url or "").exists():
            raise DockerPluginError(
                f"The path dependency {package.pretty_name} points at {package.source_url}, "
                f"which does not exist (locked in {locker.lock}). Fix its `path` in "
                f"{poetry.pyproject_path} and run `poetry lock`."
            )
        marker = poetry_compat.without_chosen_extras(
            dependency_package.dependency.marker, chosen_extras
        )
        files = poetry_compat.locked_files(package)
        file_hashes = sorted((f["file"], h) for f in files if (h := pip_hash(f["hash"])))
        hashes = sorted({h for _, h in file_hashes})
        requirements.append(
            LockedRequirement(
                name=package.name,
                version=str(package.version),
                marker="" if marker.is_any() else str(marker),
                hashes=tuple(hashes),
                files=tuple(sorted(f["file"] for f in files)),
                python_versions=package.python_versions,
                source_url=package.source_url or "",
                kind=kind,
                reference=package.source_resolved_reference or package.source_reference or "",
                subdirectory=package.source_subdirectory or "",
                file_hashes=tuple(file_hashes),
            )
        )
    return tuple(sorted(requirements, key=lambda r: (r.name, r.marker)))


def check_extras(poetry: Poetry, extras: Iterable[str]) -> tuple[NormalizedName, ...]:
    """Normalises extra names and refuses those the project does not declare."""
    known = {canonicalize_name(e) for e in poetry.package.extras}
    chosen = tuple(sorted({canonicalize_name(e) for e in extras}))
    unknown = [e for e in chosen if e not in known]
    if unknown:
        declared = ", ".join(sorted(known)) or "none"
        raise DockerPluginError(
            f"Extra(s) {', '.join(unknown)} are not declared in {poetry.pyproject_path} "
            f"(declared: {declared}). Fix the --extras option or the `extras` setting."
        )
    return chosen


def patch_releases(marker: str, python: str) -> set[int]:
    """Patch releases of ``python`` for which ``marker`` gives every answer it can give.

    A marker compares full versions with the ones it names, so evaluating it at each named
    patch of this ``X.Y``, the next one, ``0`` and a patch above any release covers every
    range it tells apart.
    """
    patches = {0, HIGHEST_PATCH}
    for found in re.finditer(rf"(?<![\d.]){re.escape(python)}\.(\d+)", marker):
        patches |= {int(found.group(1)), int(found.group(1)) + 1}
    return patches


def linux_environment(python: str, machine: str, patch: int = 0) -> dict[str, str]:
    """The PEP 508 marker environment of a CPython ``python``.``patch`` on Linux ``machine``."""
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.{patch}",
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{python}.{patch}",
        "python_version": python,
        "sys_platform": "linux",
        "extra": "",
    }


@cache
def supported_tags(python: str, machine: str, glibc: int = GLIBC_MAX_MINOR) -> frozenset[Tag]:
    """The wheel tags pip accepts for CPython ``python`` on Linux ``machine`` with glibc
    2.``glibc``."""
    version = tuple(int(part) for part in python.split("."))
    lowest = 17 if machine in ("aarch64", "ppc64le", "s390x") else 5
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in range(glibc, lowest - 1, -1)]
    legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
    platforms += [f"{name}_{machine}" for name, minor in legacy.items() if minor >= lowest]
    platforms.append(f"linux_{machine}")
    tags = set(cpython_tags(version, platforms=platforms))
    tags.update(compatible_tags(version, f"cp{version[0]}{version[1]}", platforms))
    return frozenset(tags)


def _wheel_tags(filename: str) -> frozenset[Tag] | None:
    if not filename.endswith(".whl"):
        return None
    try:
        return parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return None
