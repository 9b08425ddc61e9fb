"""What a locked file means for a target: which wheels install on a Python, machine and glibc,
which markers select a package there, and which Pythons a range allows.

Answered here alone, each parse (a wheel's file name, a marker, a version range) done once per
process: the plan asks these questions for every candidate Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from packaging.markers import InvalidMarker, Marker
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

# The glibc that images are assumed to carry (Debian bookworm's) when the base image could not
# be looked at; wheels that need a newer one than the image's are not counted as installable.
GLIBC_MAX_MINOR = 36
# The archives that source distributions come as (Windows installers, eggs are not).
SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")
# A patch release above any that CPython makes, standing for "the newest" in markers.
HIGHEST_PATCH = 999
# Marker variables whose value depends on the patch release, which the plan does not know.
PATCH_LEVEL_VARIABLES = ("python_full_version", "implementation_version")


@dataclass(frozen=True)
class Target:
    """Where the locked packages are to be installed: CPython ``python`` (X.Y) on Linux
    ``machine`` (as in wheel tags: x86_64, aarch64) with glibc 2.``glibc``."""

    python: str
    machine: str
    glibc: int = GLIBC_MAX_MINOR

    @property
    def tags(self) -> frozenset[Tag]:
        return supported_tags(self.python, self.machine, self.glibc)


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


@cache
def wheel_tags(filename: str) -> frozenset[Tag] | None:
    """The tags a wheel's file name declares; None for an sdist or a name that is no wheel's."""
    if not filename.endswith(".whl"):
        return None
    try:
        return parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return None


def has_wheel_for(files: tuple[str, ...], target: Target) -> bool:
    """Whether one of the files is a wheel that installs on ``target``."""
    supported = target.tags
    return any(tags & supported for tags in map(wheel_tags, files) if tags)


def is_compiled_for(files: tuple[str, ...], target: Target) -> bool:
    """Whether the wheel pip picks for ``target`` holds compiled code (a binary wheel)."""
    supported = target.tags
    return any(
        tag.abi != "none" for tags in map(wheel_tags, files) if tags for tag in tags & supported
    )


def is_pure_python(files: tuple[str, ...]) -> bool:
    """Whether the files show a pure-Python package: wheels, every one of them ``none-any``.

    An sdist alone shows nothing either way (python-ldap publishes only an sdist, of C code).
    """
    wheels = [tags for tags in map(wheel_tags, files) if tags]
    return bool(wheels) and all(t.abi == "none" and t.platform == "any" for w in wheels for t in w)


def has_platform_wheels(files: tuple[str, ...], machine: str) -> bool:
    """Whether any of the files is a wheel for Linux on ``machine`` (or for any platform), for
    whichever Python: only such wheels tell which Pythons the package installs on.

    psycopg2 publishes Windows wheels and an sdist: on Linux it is an sdist-only package.
    """
    platforms = {tag.platform for tags in map(wheel_tags, files) if tags for tag in tags}
    return any(is_platform_of(platform, machine) for platform in platforms)


def is_platform_of(platform: str, machine: str) -> bool:
    """Whether a wheel's platform tag installs on a glibc Linux ``machine`` (musllinux does not)."""
    if platform == "any":
        return True
    return platform.startswith(("manylinux", "linux_")) and platform.endswith(f"_{machine}")


def has_sdist(files: tuple[str, ...]) -> bool:
    """Whether one of the files is a source distribution, which pip can build anywhere."""
    return any(name.endswith(SDIST_SUFFIXES) for name in files)


def marker_applies(marker: str, target: Target) -> bool:
    """Whether ``marker`` may select a package on ``target``.

    The image's patch release is not known when the plan is made, so a marker that tells
    patch releases apart (``python_full_version >= "3.8.1"``) applies when it does for any of
    them; the package keeps its marker, and pip in the image decides.
    """
    if not marker:
        return True
    parsed = parse_marker(marker)
    return any(
        parsed.evaluate(linux_environment(target.python, target.machine, patch))
        for patch in patch_releases(marker, target.python)
    )


@cache
def parse_marker(marker: str) -> Marker:
    return Marker(marker)


def is_marker(text: str) -> bool:
    """Whether ``text`` is a PEP 508 marker."""
    try:
        parse_marker(text)
    except InvalidMarker:
        return False
    return True


@cache
def python_allows(constraint: str, python: str) -> bool:
    """Whether a Poetry version constraint (``>=3.9,<4``) admits some release of ``python``."""
    from poetry.core.constraints.version import parse_constraint

    return not parse_constraint(constraint).intersect(parse_constraint(f"~{python}")).is_empty()


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
