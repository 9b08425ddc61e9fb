"""Which files of the project reach the image: the listing, and what is never copied.

For a package, what poetry-core puts into its wheel, plus pyproject.toml; otherwise the source
tree as ``docker build`` of it would see it (git-ignored and ``.dockerignore``-d files left
out), minus the files that must never enter an image whatever the project says.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.names import POETRY_CORE_BACKEND
from poetry_docker_plugin.sources.dockerignore import DockerIgnore
from poetry_docker_plugin.sources.wheel import not_a_package

if TYPE_CHECKING:
    from poetry.poetry import Poetry

    from poetry_docker_plugin.lock.model import LockedRequirement
    from poetry_docker_plugin.plan.model import BuildPlan
    from poetry_docker_plugin.project_cache import ProjectCache

# Never copied from a project directory, whatever .gitignore or .dockerignore say. Only
# what is never source code a project needs: data belongs in the project's .dockerignore.
NEVER_COPIED = (
    # version control
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    # environment files, which hold tokens and passwords
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    # credentials of package managers, clouds and other clients
    ".netrc",
    ".pypirc",
    ".npmrc",
    ".yarnrc*",
    ".git-credentials",
    ".pgpass",
    ".my.cnf",
    ".s3cfg",
    ".boto",
    ".htpasswd",
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    "secrets",
    ".secrets",
    "credentials",  # not credentials*: a credentials.py module is source code
    "credentials.json",
    "credentials.csv",
    "credentials.y*ml",
    "credentials.toml",
    "credentials.ini",
    # private keys, certificate stores, password databases, infrastructure state
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.tfstate",
    "*.tfstate.*",
    "*.tfvars",
    # shell and interpreter histories (commands typed with secrets in them)
    ".bash_history",
    ".zsh_history",
    ".sh_history",
    ".history",
    ".python_history",
    ".node_repl_history",
    ".psql_history",
    ".mysql_history",
    ".sqlite_history",
    ".lesshst",
    ".viminfo",
    # virtual environments (and any folder with a pyvenv.cfg, see _in_virtual_environment)
    ".venv",
    "venv",
    ".direnv",
    # caches
    "__pycache__",
    "*.py[cod]",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".ipynb_checkpoints",
    ".coverage",
    ".coverage.*",
    ".tox",
    ".nox",
    "node_modules",
    # build output
    "dist",
    "build",
    "*.egg-info",
    # editors and operating systems (swap files hold what was being edited)
    ".idea",
    ".vscode",
    "*.swp",
    "*.swo",
    ".DS_Store",
    "Thumbs.db",
    # the container build's and Poetry's own local files
    ".dockerignore",
    "Dockerfile",
    "poetry.toml",
)


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
        and poetry.pyproject.build_system.build_backend == POETRY_CORE_BACKEND
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
                if not _never_copied(d) and not ignore.prunes((here / d).as_posix())
            )
            listed.extend(here / name for name in files)
    return [
        path
        for path in listed
        if not any(_never_copied(part) for part in path.parts)
        and not ignore.excludes(path.as_posix())
        and not _in_virtual_environment(root, path)
        and (root / path).is_file()
        and not (root / path).is_symlink()
    ]


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
        return None
    return [Path(name) for name in result.stdout.decode().split("\0") if name]


def _never_copied(name: str) -> bool:
    return any(fnmatch(name, pattern) for pattern in NEVER_COPIED)


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
