"""The project's own facts, read once from Poetry into a typed value.

The plan needs a handful of things about the project (its name, version, scripts, metadata,
build backend, Python constraint, declared groups and extras); reading them here, once, lets
the plan be made, and tested, without a live ``Poetry``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.names import (
    OCI_PREFIX,
    POETRY_CORE_BACKEND,
    POETRY_CORE_BACKENDS,
    SETTINGS_TABLE,
)

if TYPE_CHECKING:
    from pathlib import Path

    from poetry.poetry import Poetry


@dataclass(frozen=True)
class ProjectFacts:
    """What the plan needs to know of the project. ``name`` and ``version`` are as declared
    (a ``package-mode = false`` project need not declare either)."""

    pyproject_path: Path
    name: str | None
    version: str | None
    package_mode: bool = True
    backend: str = POETRY_CORE_BACKEND
    build_script: bool = False  # [tool.poetry.build] names a script
    python_constraint: str = "*"
    scripts: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ("main",)
    # The OCI labels from the project's metadata (package mode), whitespace folded.
    metadata: tuple[tuple[str, str], ...] = ()
    # The raw [tool.poetry-docker] table, validated by settings.py.
    settings_table: object = None

    @property
    def root(self) -> Path:
        return self.pyproject_path.parent

    @property
    def image_name(self) -> str:
        """The project's name as an image repository name (lowercase, docker's separators);
        a project without a declared name is named after its directory."""
        name = self.name or self.root.name
        name = re.sub(r"[^a-z0-9._-]+", "-", canonicalize_name(name)).strip("._-")
        return name or "app"

    @property
    def default_command(self) -> tuple[str, ...]:
        """The project's one console script, else ``python``."""
        return (self.scripts[0],) if len(self.scripts) == 1 else ("python",)

    @property
    def builds_with_poetry_core(self) -> bool:
        """Whether poetry-core builds the wheel on the host: not with a build script, which
        it would run here (the project is a stranger's); pip builds that one in the image."""
        return self.backend in POETRY_CORE_BACKENDS and not self.build_script

    @classmethod
    def read(cls, poetry: Poetry) -> ProjectFacts:
        """The facts of a project loaded by Poetry."""
        package = poetry.package
        data = poetry.pyproject.data
        tool = data.get("tool", {})
        if poetry.is_package_mode:
            name: str | None = package.name
            version: str | None = str(package.version)
            scripts = tuple(package.entry_points.get("console-scripts", {}))
            metadata = _metadata(poetry)
        else:
            sections = [data.get("project", {}), tool.get("poetry", {})]
            name = next((s["name"] for s in sections if isinstance(s.get("name"), str)), None)
            version = next(
                (s["version"] for s in sections if isinstance(s.get("version"), str)), None
            )
            scripts, metadata = (), ()
        return cls(
            pyproject_path=poetry.pyproject_path,
            name=name,
            version=version,
            package_mode=poetry.is_package_mode,
            backend=poetry.pyproject.build_system.build_backend,
            build_script=bool(package.build_script),
            python_constraint=package.python_versions,
            scripts=scripts,
            extras=tuple(sorted(canonicalize_name(e) for e in package.extras)),
            groups=tuple(sorted(package.dependency_group_names(include_optional=True))),
            metadata=metadata,
            settings_table=tool.get(SETTINGS_TABLE.removeprefix("tool.")),
        )


# Characters that reorder or hide what a terminal shows (Trojan Source), besides C0/C1.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _metadata(poetry: Poetry) -> tuple[tuple[str, str], ...]:
    """The OCI labels that the project's metadata gives values for."""
    package = poetry.package
    from poetry_docker_plugin.project.poetry_compat import license_of

    candidates = {
        "title": package.pretty_name,
        "version": str(package.version),
        "description": package.description,
        "authors": ", ".join(package.authors),
        "licenses": license_of(package),
        "url": package.homepage or "",
        "source": package.repository_url or "",
        "documentation": package.documentation_url or "",
    }
    labels = []
    for key, value in candidates.items():
        text = " ".join((value or "").split())  # line breaks and tabs folded into spaces
        bad = next((c for c in text if c in BIDI_CONTROLS or unicodedata.category(c) == "Cc"), None)
        if bad is not None:
            raise DockerPluginError(
                f"The project's {key} in {poetry.pyproject_path} holds the control character "
                f"{bad!r}, which would reach the image's {OCI_PREFIX}.{key} label (and "
                "terminals that show it). Remove it from pyproject.toml."
            )
        labels.append((f"{OCI_PREFIX}.{key}", text))
    return tuple(labels)
