"""Files the plugin writes on the host for the user (``--sbom``, ``--digest-file``): checked
before anything is built or pushed, then written whole or not at all, so that a reader (a CI
step) never sees half a file and a failure leaves the previous one."""

from __future__ import annotations

import os
from pathlib import Path

from poetry_docker_plugin.errors import DockerPluginError


def refuse_project_links(what: str, target: Path, project: Path) -> None:
    """Refuses a ``target`` (absolute, not resolved) that goes through a symbolic link inside
    ``project`` (resolved), itself included: the project is a stranger's, and its link may
    point at another project's files or anywhere this user may write. Links outside the
    project (the user's own folders) are the user's choice, and followed."""
    for path in (target, *target.parents):
        if path == project or not path.is_relative_to(project):
            break
        if path.is_symlink():
            raise DockerPluginError(
                f"The {what} {target} goes through {path}, a symbolic link inside the project "
                f"(to {str(path.readlink())!r}): the plugin writes nothing through a link the "
                "project holds, since it may point anywhere on this machine. Nothing was "
                "written. Remove the link, or give a path that does not go through it."
            )


def output_file(option: str, value: str, example: str, project: Path | None = None) -> Path:
    """The file an option names, absolute; refused up front when it cannot be written, or
    when it goes through a link inside ``project`` (``refuse_project_links``)."""
    target = Path(value).expanduser().absolute()
    if project is not None:
        refuse_project_links(f"{option} path", target, project)
    if target.is_dir():
        raise DockerPluginError(
            f"The {option} path {target} is a directory. Give the path of the file to write, "
            f"such as {target / example}."
        )
    folder = next(parent for parent in target.parents if parent.exists())
    if not folder.is_dir():
        raise DockerPluginError(
            f"The {option} path {target} lies under {folder}, which is a file, not a folder. "
            "Choose a path in a folder."
        )
    return target


def write_atomically(option: str, target: Path, content: bytes, *, done: str = "") -> None:
    """Writes ``content`` beside ``target`` and renames it over, readable by everyone; the
    folder is made then (as with ``mkdir -p``), once there is something to put in it.

    ``done`` says what already happened and holds (``Pushed app:1.0 as app@sha256:...``): a
    failure here (a full disk) must not read as if that had failed too. On failure nothing is
    left beside ``target``, and a previous ``target`` is as it was.
    """
    import tempfile

    from poetry_docker_plugin.util.oserrors import describe

    scratch: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
        scratch = Path(name)
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        scratch.chmod(0o644)
        scratch.replace(target)
    except OSError as error:
        then = f"{done}; only the {option} file is missing." if done else ""
        raise DockerPluginError(
            describe(error, f"write the {option} file {target}", target.parent, then)
        ) from None
    finally:
        if scratch is not None:
            scratch.unlink(missing_ok=True)
