"""Digests of the image's inputs: the project's files, and the fingerprint of everything.

The fingerprint tells ``run`` and ``shell`` whether an image is current without building
anything; its parts say which kind of input changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_docker_plugin.names import SBOM_INPUTS_FILE
from poetry_docker_plugin.sources.listing import included_files, package_files, project_sources

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from poetry.poetry import Poetry

    from poetry_docker_plugin.lock.model import LockedRequirement
    from poetry_docker_plugin.plan.model import BuildPlan
    from poetry_docker_plugin.project_cache import ProjectCache
    from poetry_docker_plugin.render import RenderedFiles


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


def digest_files(
    root: Path, files: Iterable[Path], digest_of: Callable[[Path], bytes] | None = None
) -> str:
    """The sha256 (hex) of the files' paths, relative to ``root``, and contents, in order.

    ``digest_of`` gives a file's content digest (a cache's), else the file is read.
    """
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.as_posix().encode() + b"\0")
        digest.update(digest_of(root / path) if digest_of else file_digest(root / path))
    return digest.hexdigest()


def _packages_digest(requirements: Iterable[LockedRequirement]) -> str:
    """The digest of path dependencies: each one's name and files (wherever it lies)."""
    digest = hashlib.sha256()
    for requirement in requirements:
        root, files = package_files(requirement)
        digest.update(f"{requirement.name}\0{digest_files(root, files)}\0".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    """Digests of the inputs of an image, by kind, so that a rebuild can say what changed.

    ``digest`` covers them all; ``parts`` (short digests) go into a label beside it.
    """

    parts: tuple[tuple[str, str], ...]

    @property
    def digest(self) -> str:
        text = "".join(f"{name}={part}\0" for name, part in self.parts)
        return hashlib.sha256(text.encode()).hexdigest()

    def changed_since(self, recorded: Mapping[str, str]) -> list[str]:
        """The kinds of input whose digest differs from ``recorded`` (an image's label)."""
        return [name for name, part in self.parts if recorded.get(name) != part]


def fingerprint(
    rendered: RenderedFiles, sources: SourceDigests, options: Mapping[str, str]
) -> Fingerprint:
    """The digests of every input of the image: generated files, sources and build options.

    The Dockerfile counts without the digests of the files it mounts (those files are inputs
    of their own), so that a source edit shows as that alone.
    """
    generated, requirements = hashlib.sha256(), hashlib.sha256()
    for name, text in sorted(rendered.files().items()):
        if name == "Dockerfile":
            from poetry_docker_plugin.render import without_input_digests

            text = without_input_digests(text)
        from_lock = name.endswith(".txt") or name == SBOM_INPUTS_FILE  # the lock's hashes
        (requirements if from_lock else generated).update(f"{name}\0{text}\0".encode())
    files = hashlib.sha256()
    for kind, digest in sorted(asdict(sources).items()):
        files.update(f"{kind}={digest}\0".encode())
    settings = hashlib.sha256()
    for key in sorted(options):
        settings.update(f"{key}={options[key]}\0".encode())
    parts = {
        "the Dockerfile (settings, options or the plugin)": generated,
        "the locked requirements": requirements,
        "the project's files": files,
        "the build options or the base image": settings,
    }
    return Fingerprint(tuple((name, part.hexdigest()[:16]) for name, part in parts.items()))


def file_digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()
