"""The lock as the plan sees it: typed values, no Poetry object inside.

``read.py`` makes them from poetry.lock once per command; tests make them in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from poetry_docker_plugin.lock.wheels import (
    PATCH_LEVEL_VARIABLES,
    Target,
    has_platform_wheels,
    has_sdist,
    has_wheel_for,
    is_compiled_for,
    is_pure_python,
    marker_applies,
    python_allows,
)

if TYPE_CHECKING:
    from pathlib import Path

# Where a locked package comes from (``LockedRequirement.kind``).
KINDS = ("index", "url", "git", "directory", "file")


@dataclass(frozen=True)
class LockedRequirement:
    """One locked package to install: pinned, hashed, with the marker under which it applies.

    ``kind`` says where the lock takes it from: ``index`` (PyPI or a source of the project,
    ``source_url``), ``url`` (an archive at ``source_url``), ``git`` (``source_url`` at commit
    ``reference``), ``directory`` or ``file`` (a path on the host, ``source_url``, absolute).
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
    # A directory dependency that poetry-core builds on the host (no build in the image).
    built_by_poetry_core: bool = False

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

    @property
    def archive_name(self) -> str:
        """The file name of a ``file`` dependency (an sdist or wheel on the host)."""
        return self.source_url.replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def builds_on_host(self) -> bool:
        """A wheel file, or a directory that poetry-core builds: no need to build in the image."""
        if self.kind == "file":
            return self.source_url.endswith(".whl")
        return self.kind == "directory" and self.built_by_poetry_core

    def applies_to(self, target: Target) -> bool:
        """Whether the marker may select this package on ``target`` (see ``marker_applies``)."""
        return marker_applies(self.marker, target)

    def allows_python(self, python: str) -> bool:
        return python_allows(self.python_versions, python)

    def has_wheel_for(self, target: Target) -> bool:
        """Whether a wheel of the lock installs on ``target``."""
        return has_wheel_for(self.files, target)

    def needs_build(self, target: Target) -> bool:
        """Whether pip has to build it in the image: a git commit, or no wheel for ``target``."""
        if self.kind == "git":
            return True
        return self.kind in ("index", "url") and not self.has_wheel_for(target)

    def needs_compiler(self, target: Target) -> bool:
        """Whether building it may compile code: it is built here, and not known to be pure.

        Only a lock whose files include wheels, all pure (``none-any``), shows a pure-Python
        package. A package with only an sdist may hold C code (python-ldap does), and one that
        ships binary wheels but none for ``target`` certainly does: both get the compiler.
        """
        return self.needs_build(target) and not is_pure_python(self.files)

    def is_compiled(self, target: Target) -> bool:
        """Whether the wheel pip picks for ``target`` holds compiled code (a binary wheel)."""
        return is_compiled_for(self.files, target)

    def installable_on(self, target: Target) -> bool:
        """True when pip can install it on ``target`` without compiling, or it is meant to be
        built there.

        Only wheels for the target's OS and architecture say which Pythons a package is meant
        for: one that publishes such wheels, but none for this Python, would be compiled from
        its sdist (slow, and usually failing), so this Python is not a good one. A package
        with no wheel for the platform at all (psycopg2 publishes Windows wheels and an sdist)
        is meant to be built from its sdist on any Python; git commits and local paths too.
        """
        if not self.allows_python(target.python):
            return False
        if self.kind in ("git", "directory"):
            return True
        if not has_platform_wheels(self.files, target.machine):
            return has_sdist(self.files)
        return self.has_wheel_for(target)

    def installable_anywhere(self, machine: str) -> bool:
        """False for a package that no Python can install on Linux ``machine``: no wheel for
        the platform, and no sdist to build (a Windows-only package without a marker)."""
        if self.kind != "index" or not self.files:
            return True
        return has_platform_wheels(self.files, machine) or has_sdist(self.files)


@dataclass(frozen=True)
class Lock:
    """The selected part of poetry.lock: what the image installs, and from where.

    ``requirements`` are those of ``groups`` and ``extras`` (names normalised), sorted by name
    and marker; ``indexes`` are pip's ``--index-url``/``--extra-index-url`` options for the
    sources they were locked from (without credentials).
    """

    path: Path
    requirements: tuple[LockedRequirement, ...]
    groups: tuple[str, ...]
    extras: tuple[str, ...]
    indexes: tuple[tuple[str, str], ...] = ()

    def uninstallable(self, target: Target) -> list[str]:
        """The packages that apply on ``target`` but could not be installed from the lock's
        files (``name version``)."""
        return [
            f"{r.name} {r.version}"
            for r in self.requirements
            if r.applies_to(target) and not r.installable_on(target)
        ]

    def platform_orphans(self, target: Target) -> list[str]:
        """The packages that apply on ``target`` but that no Python could install on its
        machine (``name version``): neither a wheel for the platform nor an sdist."""
        return [
            f"{r.name} {r.version}"
            for r in self.requirements
            if r.applies_to(target) and not r.installable_anywhere(target.machine)
        ]
