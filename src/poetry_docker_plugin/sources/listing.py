"""Which files of the project reach the image: the listing, and what is never copied.

For a package, what poetry-core puts into its wheel, plus pyproject.toml; otherwise the source
tree as ``docker build`` of it would see it (git-ignored and ``.dockerignore``-d files left
out), minus the files that must never enter an image whatever the project says.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.names import POETRY_CORE_BACKENDS
from poetry_docker_plugin.project.dockerignore import DockerIgnore
from poetry_docker_plugin.project.never_copied import never_copied, never_copied_path
from poetry_docker_plugin.sources.wheel import not_a_package

if TYPE_CHECKING:
    from poetry.poetry import Poetry

    from poetry_docker_plugin.lock.model import LockedRequirement
    from poetry_docker_plugin.plan.model import BuildPlan
    from poetry_docker_plugin.project.cache import ProjectCache


def project_sources(poetry: Poetry, cache: ProjectCache | None = None) -> list[Path]:
    """The project files whose content goes into the image, sorted, relative to the project.

    For a package: what poetry-core puts into its wheel, plus pyproject.toml (metadata and
    settings). Otherwise: the source tree, minus git-ignored, never-copied and
    ``.dockerignore``-d files. The ``include`` setting's files are ``included_files``.
    With ``cache``, the list is the last call's while no directory of the project changed.
    """
    if cache is not None:
        root = poetry.pyproject_path.parent
        return cache.listing(root, "sources", lambda: project_sources(poetry))
    root = poetry.pyproject_path.parent
    if (
        poetry.is_package_mode
        and poetry.pyproject.build_system.build_backend in POETRY_CORE_BACKENDS
        and not poetry.package.build_script  # built by pip in the image: its whole tree
    ):
        from poetry.core.masonry.builders.wheel import WheelBuilder

        try:
            found = WheelBuilder(poetry).find_files_to_add()
        except (ValueError, RuntimeError, OSError) as error:
            raise not_a_package(poetry, error) from None
        files = {f.path.relative_to(root) for f in found}
        files.add(Path("pyproject.toml"))
        return sorted(files)
    return sorted(source_tree(root))


def included_files(poetry: Poetry, include: tuple[str, ...]) -> list[Path]:
    """The files the ``include`` patterns name, through the same exclusions as the sources.

    A pattern that names nothing is refused: it is a typo, or a file that may not be copied.
    """
    if not include:
        return []
    root = poetry.pyproject_path.parent
    candidates = [path.as_posix() for path in source_tree(root)]
    for text in include:
        single = DockerIgnore.parse(text, "the `include` setting")
        if not any(single.excludes(path) for path in candidates):
            raise DockerPluginError(
                f"The pattern {text!r} of `include` in [tool.poetry-docker] of "
                f"{poetry.pyproject_path} names no file that can be copied: none exists, or "
                "each is git-ignored, in .dockerignore or one the plugin never copies "
                "(secrets, environments, caches). Fix the pattern or remove it."
            )
    patterns = DockerIgnore.parse("\n".join(include), "the `include` setting")
    return [Path(path) for path in candidates if patterns.excludes(path)]


def package_files(requirement: LockedRequirement) -> tuple[Path, list[Path]]:
    """A path dependency's folder and its files in it: an archive alone, or its source tree."""
    path = Path(requirement.source_url)
    if requirement.kind == "file":
        return path.parent, [Path(path.name)]
    return path, sorted(source_tree(path))


def source_tree(root: Path) -> list[Path]:
    """The files of a directory copied as it is, relative to it.

    In a git work tree: tracked and untracked-but-not-ignored files; elsewhere every file.
    Then minus NEVER_COPIED, virtual environments, symbolic links and what the directory's
    own ``.dockerignore`` excludes, as ``docker build`` of that directory would.
    """
    ignore = DockerIgnore.read(root)
    listed = _git_files(root)
    if listed is None:
        listed = []
        for folder, subfolders, files in os.walk(root):
            here = Path(folder).relative_to(root)
            subfolders[:] = sorted(
                d
                for d in subfolders
                if not never_copied(d, here.name) and not ignore.prunes((here / d).as_posix())
            )
            listed.extend(here / name for name in files)
    kept = [
        path
        for path in listed
        if not never_copied_path(path)
        and not ignore.excludes(path.as_posix())
        and not _in_virtual_environment(root, path)
        and not _through_symlink(root, path)
        and (root / path).is_file()
    ]
    for path in kept:
        _check_name(root, path)
    return kept


def _through_symlink(root: Path, path: Path) -> bool:
    """Whether the file, or any folder between ``root`` and it, is a symbolic link: git may
    still list ``folder/file`` after ``folder`` was replaced by a link to elsewhere."""
    return any((root / part).is_symlink() for part in (path, *path.parents) if part != Path())


def _check_name(root: Path, path: Path) -> None:
    """Refuses a file to copy whose name is no UTF-8 (the Dockerfile, the caches and the
    engine's context all name files as text): said with its path, as a fix to make."""
    try:
        path.as_posix().encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(root / path).decode("utf-8", "backslashreplace")
        raise DockerPluginError(
            f"The file {shown} has a name that is not UTF-8 text, which the image's build "
            "cannot name. Rename it, or leave it out with .dockerignore (or git-ignore it)."
        ) from None


def _in_virtual_environment(root: Path, path: Path) -> bool:
    """Whether ``path`` lies in a virtual environment (a folder with a pyvenv.cfg), by any name."""
    return any(
        (root / parent / "pyvenv.cfg").exists() for parent in path.parents if parent != Path()
    )


def _git_files(root: Path) -> list[Path] | None:
    """Tracked and untracked-but-not-ignored files when ``root`` is in a git work tree."""
    git = shutil.which("git")
    if git is None:
        return None
    result = subprocess.run(
        [git, "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "."],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        detail = os.fsdecode(result.stderr).strip()
        if "not a git repository" in detail:
            return None
        # Never a silent fallback to every file: git-ignored secrets would be copied.
        fix = "Fix what git says, then build again."
        if "dubious ownership" in detail:
            fix = (
                "The folder belongs to another user than the one running Poetry (as in many "
                "CI containers): if you trust it, run `git config --global --add "
                f"safe.directory {shlex.quote(str(root))}`, then build again."
            )
        reason = " ".join(detail.split()) or f"exit code {result.returncode}"
        raise DockerPluginError(
            f"git cannot list the files of {root} ({reason}), so the plugin cannot tell which "
            f"files git ignores and copies none. {fix}"
        )
    # File names are bytes: a name that is no UTF-8 is kept as the OS spells it.
    return [Path(os.fsdecode(name)) for name in result.stdout.split(b"\0") if name]


def input_files(
    poetry: Poetry, plan: BuildPlan, cache: ProjectCache | None = None
) -> tuple[list[Path], list[Path]]:
    """The folders whose listing, and the files whose content, the image is made of (besides
    the lock): pyproject.toml, the project's sources, the ``include`` files and the path
    dependencies. Absolute paths."""
    root = poetry.pyproject_path.parent
    files = [root / "pyproject.toml"]
    if not plan.project.editable:
        files += [root / path for path in project_sources(poetry, cache)]
    if plan.project.copies_included_files:
        files += [root / path for path in included_files(poetry, plan.project.include)]
    roots = [root]
    for requirement in plan.dependencies.local_wheels + plan.dependencies.local_sources:
        folder, names = package_files(requirement)
        files += [folder / name for name in names]
        if requirement.kind == "directory":
            roots.append(Path(requirement.source_url))
    return roots, files
