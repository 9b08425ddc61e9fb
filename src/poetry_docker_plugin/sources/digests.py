"""The digests of the project's files that reach the image, by how they get there (known
before rendering: the Dockerfile names the digest of what each step mounts)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_docker_plugin.sources.listing import included_files, package_files, project_sources
from poetry_docker_plugin.util.hashing import digest_files

if TYPE_CHECKING:
    from collections.abc import Iterable

    from poetry.poetry import Poetry

    from poetry_docker_plugin.lock.model import LockedRequirement
    from poetry_docker_plugin.plan.model import BuildPlan
    from poetry_docker_plugin.project.cache import ProjectCache


@dataclass(frozen=True)
class SourceDigests:
    """Digests (sha256, hex) of the project's files that reach the image, by how they get there.

    They are known before rendering: the Dockerfile names the digest of what each step mounts.
    """

    project: str  # what the project's wheel (or the sources the wheels stage builds) is made of
    included: str  # the files of the `include` setting, copied beside the package
    local_wheels: str  # path dependencies built on the host
    local_sources: str  # path dependencies built in the wheels stage


def source_digests(
    poetry: Poetry, plan: BuildPlan, cache: ProjectCache | None = None
) -> SourceDigests:
    """The digests of the project's files that reach the image, by how they get there.

    Taken before rendering, which names them in the steps that mount the files.
    """
    root = poetry.pyproject_path.parent
    project = plan.project
    # The development image holds no sources (they are mounted), so edits keep it current.
    sources = [Path("pyproject.toml")] if project.editable else project_sources(poetry, cache)
    included = included_files(poetry, project.include) if project.copies_included_files else []
    if cache is not None:
        project_digest = cache.files_digest(root, sources, "project")
        included_digest = cache.files_digest(root, included, "included")
    else:
        project_digest, included_digest = digest_files(root, sources), digest_files(root, included)
    return SourceDigests(
        project=project_digest,
        included=included_digest,
        local_wheels=_packages_digest(plan.dependencies.local_wheels),
        local_sources=_packages_digest(plan.dependencies.local_sources),
    )


def _packages_digest(requirements: Iterable[LockedRequirement]) -> str:
    """The digest of path dependencies: each one's name and files (wherever it lies)."""
    digest = hashlib.sha256()
    for requirement in requirements:
        root, files = package_files(requirement)
        digest.update(f"{requirement.name}\0{digest_files(root, files)}\0".encode())
    return digest.hexdigest()
