"""Context: a staged build-context directory holding only what the Dockerfile copies.

Nothing from the project directory is sent to the engine as it is: the context is a fresh
directory with the generated files, the exported requirements and the project's wheel (or,
for ``package-mode = false``, its sources minus everything that must never enter an image).
The same inputs also give the fingerprint that tells ``run`` and ``shell`` whether an image
is current, computed without building anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from poetry.core.masonry.builders.builder import Builder
from poetry.core.masonry.builders.wheel import WheelBuilder
from poetry.core.masonry.utils.package_include import PackageInclude

from poetry_docker_plugin.dockerignore import DOCKERIGNORE, DockerIgnore
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.plan import POETRY_CORE
from poetry_docker_plugin.render import (
    INCLUDED_DIR,
    LOCAL_SOURCES_DIR,
    LOCAL_WHEELS_DIR,
    SOURCES_DIR,
    WHEELS_DIR,
    SourceDigests,
    without_input_digests,
)
from poetry_docker_plugin.sbom import INPUTS_FILE as SBOM_INPUTS_FILE

if TYPE_CHECKING:
    import zipfile
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from poetry.core.poetry import Poetry as CorePoetry
    from poetry.poetry import Poetry

    from poetry_docker_plugin.plan import BuildPlan
    from poetry_docker_plugin.render import RenderedFiles
    from poetry_docker_plugin.requirements import LockedRequirement

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


# 1980-01-01, the earliest time a zip (and so a wheel) can hold: for files the plugin writes.
GENERATED_MTIME = 315532800


def project_sources(poetry: Poetry, cache: StatCache | None = None) -> list[Path]:
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
    if poetry.is_package_mode and poetry.pyproject.build_system.build_backend == POETRY_CORE:
        try:
            found = WheelBuilder(poetry).find_files_to_add()
        except (ValueError, RuntimeError, OSError) as error:
            raise _not_a_package(poetry, error) from None
        files = {f.path.relative_to(root) for f in found}
        files.add(Path("pyproject.toml"))
        return sorted(files)
    return sorted(_source_tree(root))


def included_files(poetry: Poetry, include: tuple[str, ...]) -> list[Path]:
    """The files the ``include`` patterns name, through the same exclusions as the sources.

    A pattern that names nothing is refused: it is a typo, or a file that may not be copied.
    """
    if not include:
        return []
    root = poetry.pyproject_path.parent
    candidates = [path.as_posix() for path in _source_tree(root)]
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


def source_digests(
    poetry: Poetry, plan: BuildPlan, cache: StatCache | None = None
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
        digest.update(digest_of(root / path) if digest_of else _digest(root / path))
    return digest.hexdigest()


def _packages_digest(requirements: Iterable[LockedRequirement]) -> str:
    """The digest of path dependencies: each one's name and files (wherever it lies)."""
    digest = hashlib.sha256()
    for requirement in requirements:
        root, files = package_files(requirement)
        digest.update(f"{requirement.name}\0{digest_files(root, files)}\0".encode())
    return digest.hexdigest()


def package_files(requirement: LockedRequirement) -> tuple[Path, list[Path]]:
    """A path dependency's folder and its files in it: an archive alone, or its source tree."""
    path = Path(requirement.source_url)
    if path.is_file():
        return path.parent, [Path(path.name)]
    return path, sorted(_source_tree(path))


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


def _digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


class StatCache:
    """The project's files as they were at the last call, keyed by what ``stat`` says.

    Listing a package through poetry-core and hashing its files costs seconds on a project of
    20,000 files, on every call; one that changes nothing should cost what changed. As git's
    index does, a file is read again only when its size or modification time differ, and the
    list is made again only when a directory, pyproject.toml or an ignore file changed. An
    entry is only recorded for what was last modified more than ``RACY_NS`` before, so that an
    edit in the same clock tick as the recording is never missed. It is only a cache: a file
    that cannot be read or written leaves every answer as without it.
    """

    RACY_NS = 2_000_000_000
    VERSION = 1  # of the file's layout: a file of another layout is ignored, not misread
    RENDERINGS = 4  # kept per project: the image, the development image, and a few options

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "version": self.VERSION,
            "listings": {},
            "digests": {},
            "files": {},
            "rendered": {},
        }
        self.changed = False
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict) and loaded.get("version") == self.VERSION:
                self.data.update(loaded)
        self.now = time.time_ns()

    def listing(self, root: Path, key: str, make: Callable[[], list[Path]]) -> list[Path]:
        """The cached list of files under ``root`` for ``key``, or ``make()``'s answer."""
        signature = self._tree_signature(root)
        recorded = self.data["listings"].get(key)
        if signature is not None and recorded and recorded[0] == signature:
            return [Path(name) for name in recorded[1]]
        files = make()
        if signature is not None:
            self.data["listings"][key] = [signature, [f.as_posix() for f in files]]
            self.changed = True
        return files

    def files_digest(self, root: Path, sources: list[Path], key: str) -> str:
        """``digest_files`` of ``sources``, recorded under ``key``: the recorded one while
        every size and time is the same.

        Looking at each file's ``stat`` is all a call that changes nothing costs.
        """
        stamps = hashlib.sha256(str(root).encode())
        newest = 0
        # Plain strings and os.stat: on 20,000 files, pathlib's joins cost more than the stats.
        top = os.fspath(root)
        for source in map(os.fspath, sources):
            status = os.stat(os.path.join(top, source))  # noqa: PTH116, PTH118
            newest = max(newest, status.st_mtime_ns)
            stamps.update(f"{source}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
        recorded = self.data["files"].get(key)
        if recorded and recorded[0] == stamps.hexdigest():
            return str(recorded[1])
        files = digest_files(root, sources, self.digest)
        if newest < self.now - self.RACY_NS:
            self.data["files"][key] = [stamps.hexdigest(), files]
            self.changed = True
        return files

    def digest(self, path: Path) -> bytes:
        """The sha256 of a file, read only when its size or time changed since recorded."""
        status = path.stat()
        stamp = [status.st_size, status.st_mtime_ns]
        recorded = self.data["digests"].get(str(path))
        if recorded and recorded[:2] == stamp:
            return bytes.fromhex(recorded[2])
        value = _digest(path)
        if status.st_mtime_ns < self.now - self.RACY_NS:
            self.data["digests"][str(path)] = [*stamp, value.hex()]
            self.changed = True
        return value

    def rendered(self, key: str, make: Callable[[], RenderedFiles]) -> RenderedFiles:
        """The files rendered for ``key`` (``render_key``) at an earlier call, or ``make()``'s.

        A few renderings are kept, the latest last; one that does not fit the fields of
        RenderedFiles (another version's) is made again.
        """
        from poetry_docker_plugin.render import RenderedFiles

        kept = self.data["rendered"].get(key)
        names = [field.name for field in fields(RenderedFiles)]
        if isinstance(kept, list) and len(kept) == len(names):
            return RenderedFiles(*map(str, kept))
        rendered = make()
        renderings = self.data["rendered"]
        renderings.pop(key, None)
        renderings[key] = [getattr(rendered, name) for name in names]
        for old in list(renderings)[: -self.RENDERINGS]:
            del renderings[old]
        self.changed = True
        return rendered

    def save(self) -> None:
        """Writes the cache when a call changed it, first dropping the digests of files that
        no longer exist (so that churn does not grow it); a call that changed nothing writes
        nothing."""
        if not self.changed:
            return
        digests = self.data["digests"]
        for name in [name for name in digests if not os.path.exists(name)]:  # noqa: PTH110
            del digests[name]
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            scratch = self.path.with_suffix(".tmp")
            scratch.write_text(json.dumps(self.data))
            scratch.replace(self.path)

    def _tree_signature(self, root: Path) -> str | None:
        """A digest of the times of every directory and ignore file, and of pyproject.toml;
        None when one of them changed too recently to be trusted."""
        digest = hashlib.sha256((root / "pyproject.toml").read_bytes())
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if d not in (".git", "__pycache__"))
            here = Path(folder)
            watched = [here, *(here / f for f in files if f in (".gitignore", DOCKERIGNORE))]
            for path in watched:
                mtime = path.stat().st_mtime_ns
                if mtime >= self.now - self.RACY_NS:
                    return None
                digest.update(f"{path}\0{mtime}\0".encode())
        return digest.hexdigest()


@contextlib.contextmanager
def staged_context(poetry: Poetry, plan: BuildPlan, rendered: RenderedFiles) -> Iterator[Path]:
    """Yields a temporary build-context directory, removed afterwards whatever happens."""
    directory = Path(tempfile.mkdtemp(prefix="poetry-docker-context-"))
    try:
        write_context(poetry, plan, rendered, directory)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def write_context(
    poetry: Poetry, plan: BuildPlan, rendered: RenderedFiles, directory: Path
) -> None:
    """Writes the Dockerfile, entrypoint, requirements and project into ``directory``.

    The generated files get a fixed modification time: the layers that ``COPY`` them are then
    the same bytes in every build, so a source edit changes the project's layer alone. They are
    written with ``\n`` line ends on every host: Windows' text mode would end them with CRLF,
    and ``#!/bin/sh\r`` is no interpreter.
    """
    for name, text in rendered.files().items():
        path = directory / name
        path.write_text(text, newline="\n")
        path.chmod(0o755 if name == "entrypoint.sh" else 0o644)
        os.utime(path, (GENERATED_MTIME, GENERATED_MTIME))
    for requirement in plan.dependencies.local_wheels:
        _stage_local_wheel(requirement, directory / LOCAL_WHEELS_DIR)
    for requirement in plan.dependencies.local_sources:
        path = Path(requirement.source_url)
        target = directory / LOCAL_SOURCES_DIR / requirement.name
        if path.is_file():
            target.mkdir(parents=True)
            shutil.copy2(path, target / path.name)
        else:
            _copy_files(path, _source_tree(path), target)
    project = plan.project
    if project.copies_included_files:
        root = poetry.pyproject_path.parent
        _copy_files(root, included_files(poetry, project.include), directory / INCLUDED_DIR)
        _make_readable(directory / INCLUDED_DIR)
    if project.package_mode and not project.built_in_image:
        editable_at = plan.runtime.workdir if project.editable else None
        build_wheel(poetry, directory / WHEELS_DIR, editable_at=editable_at)
    elif not project.editable:
        root = poetry.pyproject_path.parent
        _copy_files(root, project_sources(poetry), directory / SOURCES_DIR)


def _make_readable(directory: Path) -> None:
    """Modes for files that root owns in the image and the runtime user reads (and runs)."""
    for path in [directory, *directory.rglob("*")]:
        executable = path.is_dir() or path.stat().st_mode & 0o100
        path.chmod(0o755 if executable else 0o644)


def _copy_files(root: Path, files: list[Path], target: Path) -> None:
    for relative in files:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, destination)


def _stage_local_wheel(requirement: LockedRequirement, directory: Path) -> None:
    """A path dependency as a wheel: copied when it is one, else built by poetry-core."""
    from poetry.core.factory import Factory

    path = Path(requirement.source_url)
    directory.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        shutil.copy2(path, directory / path.name)
        return
    try:
        WheelBuilder.make_in(Factory().create_poetry(path), directory)
    except (ValueError, RuntimeError, OSError) as error:
        raise DockerPluginError(
            f"Poetry could not build the path dependency {requirement.name} at {path}: "
            f"{error}. Fix that project so that `poetry build` works in it."
        ) from None


def build_wheel(poetry: Poetry, directory: Path, editable_at: str | None = None) -> str:
    """Builds the project's wheel in-process with poetry-core, as ``poetry build`` would.

    With ``editable_at``, the wheel is an editable one whose import paths point into that
    directory of the container (where the working tree is mounted), not into the host's.
    """
    directory.mkdir(parents=True, exist_ok=True)
    try:
        if editable_at is None:
            return WheelBuilder.make_in(poetry, directory)
        builder = ContainerEditableWheelBuilder(poetry, editable=True)
        builder.container_root = PurePosixPath(editable_at)
        builder.build(target_dir=directory)
        return builder.wheel_filename
    except (ValueError, RuntimeError, OSError) as error:
        raise _not_a_package(poetry, error) from None


def _not_a_package(poetry: Poetry, error: Exception) -> DockerPluginError:
    return DockerPluginError(
        f"Poetry could not build {poetry.package.pretty_name} as a package from "
        f"{poetry.pyproject_path}: {error}. If this project is not meant to be a package, "
        "set `package-mode = false` under [tool.poetry] so that its sources are copied instead."
    )


class ContainerEditableWheelBuilder(WheelBuilder):
    """poetry-core's editable wheel, with import paths into the container's working tree.

    poetry-core writes the host's absolute source paths into the wheel's .pth file; inside
    the development image the working tree is mounted at ``container_root`` instead.
    """

    container_root = PurePosixPath("/app")

    def _add_pth(self, wheel: zipfile.ZipFile) -> None:
        paths = _container_paths(self._poetry, self.container_root)
        with self._write_to_zip(wheel, f"{self._module.name}.pth") as pth:
            pth.write("".join(f"{path}\n" for path in paths))


def _container_paths(poetry: CorePoetry, container_root: PurePosixPath) -> list[str]:
    """The import roots of the project's packages, as seen at ``container_root``."""
    root = poetry.pyproject_path.parent.resolve()
    bases = {
        include.base.resolve().relative_to(root).as_posix()
        for include in Builder(poetry)._module.includes
        if isinstance(include, PackageInclude) and (include.is_module() or include.is_package())
    }
    return sorted(str(container_root / base) for base in bases)


def _source_tree(root: Path) -> list[Path]:
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
