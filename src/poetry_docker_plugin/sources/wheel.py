"""The project's wheel (and path dependencies'), built in-process by poetry-core, as
``poetry build`` would; for the development image, an editable one that points into the
container's working tree."""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from poetry.core.masonry.builders.builder import Builder
from poetry.core.masonry.builders.wheel import WheelBuilder
from poetry.core.masonry.utils.package_include import PackageInclude

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    import zipfile

    from poetry.core.poetry import Poetry as CorePoetry
    from poetry.poetry import Poetry

    from poetry_docker_plugin.lock.model import LockedRequirement


def stage_local_wheel(requirement: LockedRequirement, directory: Path) -> None:
    """A path dependency as a wheel: copied when it is one, else built by poetry-core."""
    from poetry.core.factory import Factory

    path = Path(requirement.source_url)
    directory.mkdir(parents=True, exist_ok=True)
    if requirement.kind == "file":
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
        raise not_a_package(poetry, error) from None


def not_a_package(poetry: Poetry, error: Exception) -> DockerPluginError:
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
