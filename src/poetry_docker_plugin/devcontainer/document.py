"""Dev containers: ``.devcontainer/devcontainer.json`` from the plan of ``poetry docker shell``.

Pure: values in, a dict and its text out, no engine and no Poetry object, so that every
decision is unit-tested from values. The command (commands/devcontainer.py) makes the plan
and writes the file.

The file hands the container to the editor and keeps the image to the plugin: it names the
development image (``<name>:dev``) and runs ``poetry docker devcontainer --prepare-image``
as its ``initializeCommand``, on the host, before the editor looks for the container. That
step builds or refreshes the image from the lock and settings of the moment, for the user who
opens the folder (their uid and gid, as ``shell`` has them), so the image never goes stale
and the editor never builds one of its own.

The text is JSON without comments, keys sorted, two-space indents and a final newline: the
same inputs give the same bytes, so regenerating an unchanged project shows no diff and
``--check`` is a byte comparison. The file carries a marker under ``customizations`` (the
spec's place for tool-specific keys, which every tool ignores but its own) with the digest of
the rest, so that the command knows a file it wrote and nobody edited since from one it must
not overwrite.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

CONFIG_PATH = PurePosixPath(".devcontainer/devcontainer.json")
# The key of the plugin's own entry under ``customizations``.
MARKER_KEY = "poetry-docker-plugin"
MARKER_NOTE = (
    "Written by `poetry docker devcontainer` from pyproject.toml and poetry.lock: regenerate "
    "it rather than edit it (an edited file is only overwritten with --force)."
)
PYTHON_EXTENSION = "ms-python.python"
# What the file's initializeCommand runs on the host, before its options.
PREPARE_COMMAND = ("poetry", "docker", "devcontainer", "--prepare-image")

FileState = Literal["missing", "generated", "edited", "foreign"]


@dataclass(frozen=True)
class DevContainer:
    """What the file says: the development image and how the editor runs it.

    ``options`` are the command-line options the file was written with (groups, extras,
    Python, base, ports...), repeated in the ``initializeCommand`` so that the image it
    prepares is the image the file was written for.
    """

    project: str
    image: str
    workdir: str
    python: str  # the environment's interpreter, for the editor's Python tooling
    options: tuple[str, ...] = ()
    forward_ports: tuple[int, ...] = ()  # tcp ports the editor forwards from the container
    app_ports: tuple[str, ...] = ()  # what `docker run --publish` gets, unchanged
    container_env: tuple[tuple[str, str], ...] = ()
    gpus: str | None = None

    def config(self) -> dict[str, Any]:
        """The devcontainer.json document, marker included."""
        document = self._body()
        document["customizations"][MARKER_KEY] = {
            "digest": body_digest(document),
            "generated": MARKER_NOTE,
        }
        return document

    def text(self) -> str:
        """The file's bytes, as text: stable for the same values."""
        return dump(self.config())

    def _body(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": f"{self.project} (poetry docker)",
            "image": self.image,
            "initializeCommand": [*PREPARE_COMMAND, *self.options],
            # The working tree at the image's workdir, where the project is installed
            # editable: edits on the host are live, as in `poetry docker shell`.
            "workspaceFolder": self.workdir,
            "workspaceMount": f"source=${{localWorkspaceFolder}},target={self.workdir},type=bind",
            "init": True,
            # The image already runs as the host user who prepared it (Linux), or as its
            # runtime user where Docker Desktop maps ownership: no second, derived image.
            "updateRemoteUserUID": False,
            # The variables an interactive login shell ends with (activate.d's too) are
            # given to every process the editor starts.
            "userEnvProbe": "loginInteractiveShell",
            "customizations": {
                "vscode": {
                    "extensions": [PYTHON_EXTENSION],
                    "settings": {"python.defaultInterpreterPath": self.python},
                },
            },
        }
        if self.forward_ports:
            document["forwardPorts"] = sorted(set(self.forward_ports))
        if self.app_ports:
            document["appPort"] = list(self.app_ports)
        if self.container_env:
            document["containerEnv"] = dict(self.container_env)
        if self.gpus == "all":
            document["hostRequirements"] = {"gpu": True}
        elif self.gpus:
            document["runArgs"] = ["--gpus", self.gpus]
        return document


def dump(document: dict[str, Any]) -> str:
    """Sorted, indented JSON with a final newline (the file's only spelling)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def body_digest(document: dict[str, Any]) -> str:
    """The sha256 of the document without the marker, in its canonical spelling."""
    body = json.loads(json.dumps(document))
    body.get("customizations", {}).pop(MARKER_KEY, None)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def file_state(text: str | None) -> FileState:
    """Whether a file on disk is the plugin's as it wrote it, edited since, or another's.

    A file that is not JSON (devcontainer.json may hold comments), or has no marker, was not
    written by the plugin; one whose marker's digest no longer matches its content was
    edited by hand. Only ``missing`` and ``generated`` may be replaced without ``--force``.
    """
    if text is None:
        return "missing"
    try:
        document = json.loads(text)
    except ValueError:
        return "foreign"
    customizations = document.get("customizations") if isinstance(document, dict) else None
    marker = customizations.get(MARKER_KEY) if isinstance(customizations, dict) else None
    if not isinstance(marker, dict) or "digest" not in marker:
        return "foreign"
    return "generated" if marker["digest"] == body_digest(document) else "edited"


def split_ports(ports: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The ``ports`` setting as the spec takes it: tcp ports are forwarded by the editor
    (``forwardPorts``, which also works when the engine is on another machine); the editor
    forwards tcp only, so udp and sctp ports are published by the engine (``appPort``), as
    ``poetry docker run`` publishes them."""
    forwarded: list[int] = []
    published: list[str] = []
    for port in ports:
        number, _, protocol = port.partition("/")
        if protocol in ("", "tcp"):
            forwarded.append(int(number))
        else:
            published.append(f"{number}:{port}")
    return tuple(forwarded), tuple(published)
