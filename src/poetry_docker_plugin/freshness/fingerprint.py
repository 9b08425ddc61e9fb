"""The fingerprint of an image: a digest of every input (generated files, the lock's
requirements, the project's files, build options), with its parts by kind, so that ``run`` and
``shell`` know whether an image is current without building anything, and a rebuild can say
what changed."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from poetry_docker_plugin.names import SBOM_INPUTS_FILE
from poetry_docker_plugin.render.dockerfile import without_input_digests

if TYPE_CHECKING:
    from collections.abc import Mapping

    from poetry_docker_plugin.render.dockerfile import RenderedFiles
    from poetry_docker_plugin.sources.digests import SourceDigests


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

    def what_changed(self, labels: Mapping[str, str]) -> str:
        """Which kinds of input differ from those an image's labels record, in words."""
        import json

        from poetry_docker_plugin.names import INPUTS_LABEL

        try:
            recorded = json.loads(labels.get(INPUTS_LABEL, "{}"))
        except ValueError:
            recorded = {}
        changed = self.changed_since(recorded) if isinstance(recorded, dict) else []
        return ", ".join(changed) if changed else "the image predates this plugin's labels"


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
        "the settings, build options or base image": settings,
    }
    return Fingerprint(tuple((name, part.hexdigest()[:16]) for name, part in parts.items()))
