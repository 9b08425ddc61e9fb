"""Staging: a build-context directory holding only what the Dockerfile copies.

Nothing from the project directory is sent to the engine as it is: the context is a fresh
directory with the generated files, the exported requirements and the project's wheel (or,
for ``package-mode = false``, its sources minus everything that must never enter an image).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.names import (
    INCLUDED_DIR,
    LOCAL_SOURCES_DIR,
    LOCAL_WHEELS_DIR,
    SOURCES_DIR,
    WHEELS_DIR,
    ZIP_EPOCH,
)
from poetry_docker_plugin.sources.listing import included_files, project_sources, source_tree
from poetry_docker_plugin.sources.wheel import build_wheel, stage_local_wheel
from poetry_docker_plugin.util.tempdirs import temp_dir

if TYPE_CHECKING:
    from collections.abc import Iterator

    from poetry.poetry import Poetry

    from poetry_docker_plugin.plan.model import BuildPlan
    from poetry_docker_plugin.render.dockerfile import RenderedFiles

# The time of the files the plugin writes (1980-01-01, the earliest a zip can hold).
GENERATED_MTIME = ZIP_EPOCH


@contextlib.contextmanager
def staged_context(poetry: Poetry, plan: BuildPlan, rendered: RenderedFiles) -> Iterator[Path]:
    """Yields a temporary build-context directory, removed afterwards whatever happens (and
    by a later call, should this process be killed: ``util/tempdirs``)."""
    with temp_dir("context", "the build context") as directory:
        write_context(poetry, plan, rendered, directory)
        yield directory


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
        stage_local_wheel(requirement, directory / LOCAL_WHEELS_DIR)
    for requirement in plan.dependencies.local_sources:
        path = Path(requirement.source_url)
        target = inside(directory, Path(LOCAL_SOURCES_DIR, requirement.name))
        if requirement.kind == "file":
            _copy_files(path.parent, [Path(path.name)], target)
        else:
            _copy_files(path, source_tree(path), target)
    project = plan.project
    if project.copies_included_files:
        root = poetry.pyproject_path.parent
        _copy_files(root, included_files(poetry, project.include), directory / INCLUDED_DIR)
        _make_readable(directory / INCLUDED_DIR)
    if project.package_mode and not project.wheel_built_in_image:
        editable_at = plan.runtime.workdir if project.editable else None
        build_wheel(poetry, directory / WHEELS_DIR, editable_at=editable_at)
    elif not project.editable:
        root = poetry.pyproject_path.parent
        _copy_files(root, project_sources(poetry), directory / SOURCES_DIR)
        # root owns them in the image and the runtime user reads them, whatever the host mode.
        _make_readable(directory / SOURCES_DIR)


def _make_readable(directory: Path) -> None:
    """Modes for files that root owns in the image and the runtime user reads (and runs)."""
    for path in [directory, *directory.rglob("*")]:
        executable = path.is_dir() or path.stat().st_mode & 0o100
        path.chmod(0o755 if executable else 0o644)


def _copy_files(root: Path, files: list[Path], target: Path) -> None:
    """Copies each file, after proving that where it goes lies inside ``target``."""
    destinations = [inside(target, relative) for relative in files]
    for relative, destination in zip(files, destinations, strict=True):
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, destination)


def inside(directory: Path, relative: Path) -> Path:
    """``directory / relative``, proven to lie inside ``directory`` before anything is written
    there: every name that makes the path comes from the project or its lock, which may be
    hostile (an absolute path, ``..``, a link planted in the context)."""
    base = directory.resolve()
    target = (base / relative).resolve()
    if relative.is_absolute() or ".." in relative.parts or not target.is_relative_to(base):
        raise DockerPluginError(
            f"The build context would receive {relative}, which is not inside it: a name in "
            "the project or its lock leads out of it. Nothing was written there; check the "
            "names in poetry.lock and pyproject.toml (run `poetry lock` to write the lock anew)."
        )
    return target
