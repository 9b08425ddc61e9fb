"""Reading poetry.lock, once per command, into a :class:`Lock`.

The walk over the lock is poetry-plugin-export's (the same one ``poetry export`` uses), so the
requirements installed in an image are exactly the ones a user would export by hand. Every
value taken from the lock is input from a stranger: names, versions and markers are checked
here, before any of them reaches a path, a requirements file or the Dockerfile.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.lock.model import KINDS, Lock, LockedRequirement
from poetry_docker_plugin.lock.wheels import is_marker
from poetry_docker_plugin.names import POETRY_CORE_BACKENDS
from poetry_docker_plugin.project.credentials import public_url
from poetry_docker_plugin.project.poetry_compat import locked_files, without_chosen_extras

if TYPE_CHECKING:
    from collections.abc import Iterable

    from poetry.core.packages.package import Package
    from poetry.poetry import Poetry

HASH_ALGORITHMS = ("sha256", "sha384", "sha512")
# PEP 508's name grammar: the only names a lock entry may carry.
NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
# What may appear in a URL or path the lock names: no whitespace, quotes or control characters.
UNSAFE_TEXT_RE = re.compile(r"[\x00-\x20\x7f\"'`\\]")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def read_lock(poetry: Poetry, groups: Iterable[str], extras: Iterable[str]) -> Lock:
    """The locked requirements of ``groups`` and ``extras``, checked, with their indexes.

    Refuses a missing or stale lock (as ``poetry install`` would), extras the project does
    not declare, and lock entries whose values could not be a package's.
    """
    check_lock(poetry)
    chosen_extras = check_extras(poetry, extras)
    chosen_groups = tuple(sorted(groups))
    requirements = tuple(
        _requirement(poetry, package, marker)
        for package, marker in _walk(poetry, chosen_groups, chosen_extras)
    )
    requirements = tuple(sorted(requirements, key=lambda r: (r.name, r.marker)))
    return Lock(
        path=poetry.locker.lock,
        requirements=requirements,
        groups=chosen_groups,
        extras=chosen_extras,
        indexes=index_options(poetry, requirements),
    )


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


def check_extras(poetry: Poetry, extras: Iterable[str]) -> tuple[str, ...]:
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


def _walk(
    poetry: Poetry, groups: tuple[str, ...], extras: tuple[str, ...]
) -> list[tuple[Package, str]]:
    """Each locked package of the selection with the marker under which it applies."""
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
    except (ValueError, KeyError, TypeError) as error:
        # Poetry's own reading of an entry (an invalid version, a missing key).
        detail = " ".join(str(error).split()).rstrip(".")
        raise DockerPluginError(
            f"An entry of {locker.lock} cannot be read ({detail}). The lock was edited by "
            "hand or made by something other than Poetry: run `poetry lock` to write it "
            "anew, and review where the change came from."
        ) from None
    found = []
    for item in walked:
        marker = without_chosen_extras(item.dependency.marker, chosen_extras)
        found.append((item.package, "" if marker.is_any() else str(marker)))
    return found


def _requirement(poetry: Poetry, package: Package, marker: str) -> LockedRequirement:
    """One lock entry as a requirement, each of its values checked first."""
    lock = poetry.locker.lock
    name = package.pretty_name
    if not NAME_RE.fullmatch(name):
        raise _bad_entry(lock, name, "name", "is not a valid package name (PEP 508)")
    try:
        version = str(Version(str(package.version)))
    except InvalidVersion:
        raise _bad_entry(lock, name, "version", "is not a valid version (PEP 440)") from None
    if marker and (CONTROL_RE.search(marker) or not is_marker(marker)):
        raise _bad_entry(lock, name, "markers", "is not a valid environment marker (PEP 508)")
    kind = {None: "index", "legacy": "index"}.get(package.source_type, package.source_type)
    if kind not in KINDS:
        raise DockerPluginError(
            f"{name} is locked from a {package.source_type} source "
            f"({package.source_url}) in {lock}, which the image cannot install. "
            "Depend on it from a package index, a URL, a git repository or a path instead."
        )
    source_url = package.source_url or ""
    if kind == "index":
        source_url = public_url(source_url)
    elif kind in ("url", "git") and _carries_credential(source_url, kind):
        raise DockerPluginError(
            f"The dependency {name} is locked from a URL that carries a credential "
            f"(user, password or token) in {lock}: it would be written into the image's "
            "requirements and build log. Depend on it without the credential in the URL, "
            "and give the credential to Poetry (`poetry config http-basic.NAME`) or, for "
            "git, fetch it over SSH (git+ssh://), which the build authenticates with your agent."
        )
    reference = package.source_resolved_reference or package.source_reference or ""
    subdirectory = package.source_subdirectory or ""
    # A path may hold spaces (it never reaches the Dockerfile: the context names it by the
    # package's name); what pip or git reads may not.
    unsafe = CONTROL_RE if kind in ("directory", "file") else UNSAFE_TEXT_RE
    for key, value in (
        ("url", source_url),
        ("reference", reference),
        ("subdirectory", subdirectory),
    ):
        if unsafe.search(value):
            raise _bad_entry(
                lock, name, f"source {key}", "holds spaces, quotes or control characters"
            )
    built_by_poetry_core = False
    if kind in ("directory", "file"):
        from poetry_docker_plugin.lock.local import check_local

        path = Path(source_url)
        check_local(poetry, package, kind, path)
        source_url = str(path.resolve())
        built_by_poetry_core = kind == "directory" and _poetry_core_builds(path)
    file_hashes = sorted(
        (f["file"], h) for f in locked_files(package) if (h := pip_hash(f["hash"]))
    )
    files = tuple(sorted(f["file"] for f in locked_files(package)))
    for file in files:
        if not isinstance(file, str) or "/" in file or UNSAFE_TEXT_RE.search(file):
            raise _bad_entry(lock, name, "files", f"names a file {file!r} that is no file name")
    return LockedRequirement(
        name=package.name,
        version=version,
        marker=marker,
        hashes=tuple(sorted({h for _, h in file_hashes})),
        files=files,
        python_versions=package.python_versions,
        source_url=source_url,
        kind=kind,
        reference=reference,
        subdirectory=subdirectory,
        file_hashes=tuple(file_hashes),
        built_by_poetry_core=built_by_poetry_core,
    )


def _carries_credential(url: str, kind: str) -> bool:
    """Whether a locked URL authenticates by itself: a password or token in it. Git over SSH
    names a user (``git@host:org/repo``, ``ssh://git@host/...``) and no secret: the agent
    authenticates."""
    import urllib.parse

    bare = url.removeprefix("git+")
    if kind == "git" and ("://" not in bare or bare.startswith("ssh://")):
        ssh = bare if "://" in bare else "ssh://" + bare.replace(":", "/", 1)
        return urllib.parse.urlsplit(ssh).password is not None
    return public_url(bare) != bare


def _bad_entry(lock: Path, name: str, key: str, problem: str) -> DockerPluginError:
    return DockerPluginError(
        f"The package {name!r} in {lock}: its {key} {problem}. The lock was edited by hand or "
        "made by something other than Poetry: run `poetry lock` to write it anew, and review "
        "where the change came from."
    )


def _poetry_core_builds(path: Path) -> bool:
    """Whether a directory dependency is a project that poetry-core builds on the host: not
    one with a build script (``[tool.poetry.build]``), which poetry-core would run here;
    such a project is built by pip in the image, as other backends are."""
    from poetry.core.pyproject.toml import PyProjectTOML

    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        return False
    toml = PyProjectTOML(pyproject)
    return toml.build_system.build_backend in POETRY_CORE_BACKENDS and not toml.data.get(
        "tool", {}
    ).get("poetry", {}).get("build")


def pip_hash(value: str) -> str | None:
    """A lock's file hash as pip's ``--hash`` takes it (``algorithm:hex``); None if pip can't.

    The oldest locks (``[metadata.hashes]``) hold bare sha256 digests; pip refuses algorithms
    weaker than sha256 (md5 in old locks), so those are left out.
    """
    algorithm, colon, digest = value.partition(":")
    if not colon and re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return f"sha256:{value.lower()}"
    if colon and algorithm in HASH_ALGORITHMS and re.fullmatch(r"[0-9a-fA-F]+", digest):
        return value
    return None


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
        url = public_url(repository.url).rstrip("/")
        first = not has_pypi and not options and repository is poetry.pool.repositories[0]
        if first:
            options.append(("--index-url", url))
        elif url in used:
            options.append(("--extra-index-url", url))
    return tuple(options)
