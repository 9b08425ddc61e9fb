"""Path and file dependencies: what pyproject.toml declares, checked against what the lock says.

The lock is the easier file to slip a change into (nobody reads its diffs), and the path it
names is copied into the build context and read by third-party build code. So a locked path
is taken only when the project's own pyproject.toml declares the same path for the same
package (or, for a dependency of a path dependency, when it lies inside the project or inside
a path that pyproject.toml declares); a directory must be a Python project, and a file must
have the hash the lock records for it and not be one of the files the plugin never copies.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.project.poetry_compat import locked_files

if TYPE_CHECKING:
    from poetry.core.packages.package import Package
    from poetry.poetry import Poetry

# What makes a directory a Python project that pip or poetry-core can build.
PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def declared_paths(poetry: Poetry) -> dict[str, Path]:
    """The path and file dependencies of pyproject.toml (every group), by normalised name."""
    declared: dict[str, Path] = {}
    for dependency in poetry.package.all_requires:
        full_path = getattr(dependency, "full_path", None)
        if (dependency.is_directory() or dependency.is_file()) and full_path is not None:
            declared[canonicalize_name(dependency.name)] = Path(full_path).resolve()
    return declared


def check_local(poetry: Poetry, package: Package, kind: str, path: Path) -> None:
    """Refuses a locked path that pyproject.toml does not lead to, or that is not what it
    claims to be (a Python project, a file with the locked hash)."""
    lock = poetry.locker.lock
    name = package.pretty_name
    root = poetry.pyproject_path.parent.resolve()
    declared = declared_paths(poetry)
    resolved = path.resolve()
    fix = (
        f"Fix its `path` in {poetry.pyproject_path} and run `poetry lock`; if you did not "
        "change it, the lock was edited by hand: review where the change came from."
    )
    wanted = declared.get(canonicalize_name(name))
    if wanted is not None and wanted != resolved:
        raise DockerPluginError(
            f"The path dependency {name} is locked at {resolved} in {lock}, but "
            f"{poetry.pyproject_path} declares it at {wanted}. {fix}"
        )
    if wanted is None and not any(
        resolved.is_relative_to(folder) for folder in (root, *declared.values())
    ):
        raise DockerPluginError(
            f"The path dependency {name} is locked at {resolved} in {lock}, which is neither "
            f"declared in {poetry.pyproject_path} nor inside the project or a path it "
            f"declares. {fix}"
        )
    if not resolved.exists():
        raise DockerPluginError(
            f"The path dependency {name} points at {resolved}, which does not exist (locked "
            f"in {lock}). {fix}"
        )
    if kind == "directory":
        if not resolved.is_dir() or not any((resolved / f).is_file() for f in PROJECT_FILES):
            raise DockerPluginError(
                f"The path dependency {name} at {resolved} (locked in {lock}) is not a Python "
                f"project: it has none of {', '.join(PROJECT_FILES)}. {fix}"
            )
        return
    _check_file(poetry, package, resolved, fix)


def _check_file(poetry: Poetry, package: Package, path: Path, fix: str) -> None:
    """A file dependency: a file the plugin may copy, whose content the lock's hash names."""
    import hashlib

    from poetry_docker_plugin.project.never_copied import never_copied

    lock = poetry.locker.lock
    name = package.pretty_name
    if not path.is_file() or never_copied(path.name):
        raise DockerPluginError(
            f"The file dependency {name} at {path} (locked in {lock}) is not a package file "
            f"the image may receive (a folder, or a name the plugin never copies, such as a "
            f"key or an environment file). {fix}"
        )
    hashes = {entry["hash"] for entry in locked_files(package) if entry["file"] == path.name}
    hashes.discard("")
    digests = {}
    for algorithm in {h.partition(":")[0] for h in hashes} & {"sha256", "sha384", "sha512"}:
        with path.open("rb") as stream:
            digests[algorithm] = hashlib.file_digest(stream, algorithm).hexdigest()
    if not any(digests.get(h.partition(":")[0]) == h.partition(":")[2].lower() for h in hashes):
        raise DockerPluginError(
            f"The file dependency {name} at {path} does not match the hash that {lock} "
            "records for it (or the lock records none): the file changed since the lock was "
            f"written, or the lock was edited. Run `poetry lock` if you changed the file "
            "yourself; otherwise find out who did."
        )
