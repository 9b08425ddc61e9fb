"""Files the plugin writes on the host for the user (``--sbom``, ``--digest-file``): checked
before anything is built or pushed, then written whole or not at all, so that a reader (a CI
step) never sees half a file and a failure leaves the previous one."""

from __future__ import annotations

from pathlib import Path

from poetry_docker_plugin.errors import DockerPluginError


def output_file(option: str, value: str, example: str) -> Path:
    """The file an option names, absolute; refused up front when it cannot be written."""
    target = Path(value).expanduser().absolute()
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


def write_atomically(option: str, target: Path, content: bytes) -> None:
    """Writes ``content`` beside ``target`` and renames it over, readable by everyone; the
    folder is made then (as with ``mkdir -p``), once there is something to put in it."""
    import os
    import tempfile

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    except OSError as error:
        raise DockerPluginError(
            f"Could not write the {option} file {target}: {error.strerror or error}. Choose a "
            "path you may write to."
        ) from None
    scratch = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        scratch.chmod(0o644)
        scratch.replace(target)
    finally:
        scratch.unlink(missing_ok=True)
