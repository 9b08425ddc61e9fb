"""The software bill of materials (SBOM) every image carries: the in-image generator and its
inputs.

The document is made inside the image, by its environment's own Python, in a build step after
the locked dependencies are installed and before the project's own layer
(``resources/write_sbom.py``, copied into the context under its own name): only there is
it known what the environment holds (pip itself, conda's packages), and a source edit does not
run it again (the project, the document's subject, is known from the plan). The host adds what
the plan knows and the image cannot (the lock's file hashes, the project's name and version) as
``sbom-inputs.json``. Both files are rendered like the Dockerfile, so they are inputs of the
fingerprint, and the same inputs give the same document.

The document lies at one fixed path in every image (``SBOM_PATH``), which the
``dev.poetry-docker.sbom`` label names: scanners and ``docker cp`` need no knowledge of the
project. It is beside ``activate.sh`` under ``/usr/local/share/poetry-docker``, the plugin's
folder, which no Debian package writes to (``/usr/share`` is dpkg's).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poetry_docker_plugin.plan.model import BuildPlan

TOOL_NAME = "poetry-docker-plugin"


def script_text() -> str:
    """The in-image generator, as shipped in the package."""
    from importlib.resources import files

    return (
        files("poetry_docker_plugin.render.resources")
        .joinpath("write_sbom.py")
        .read_text(encoding="utf-8")
    )


def inputs_text(plan: BuildPlan) -> str:
    """What the host knows for the document, as stable JSON.

    Per locked package (by normalised name, then version) the lock's hash of each of its files,
    so that the image can name the hash of the one file pip installed; per locked conda
    package (name, version, build) the conda lock's hashes. No URL, index or
    channel is written: nothing that could carry a credential. The plugin's own version is
    left out too, so that upgrading the plugin alone does not rebuild every image.
    """
    from packaging.utils import canonicalize_name

    dependencies = plan.dependencies
    locked: dict[str, dict[str, dict[str, str]]] = {}
    for requirement in dependencies.all:
        if requirement.file_hashes:
            versions = locked.setdefault(canonicalize_name(requirement.name), {})
            versions[requirement.version] = dict(requirement.file_hashes)
    inputs: dict[str, object] = {
        "project": {
            "name": plan.project.name,
            "version": plan.project.version,
            "package_mode": plan.project.package_mode,
        },
        "tool": {"name": TOOL_NAME},
        "environment": {
            "manager": plan.environment.manager,
            "prefix": plan.environment.prefix,
        },
        "locked": locked,
    }
    conda_locked = {
        f"{p.name} {p.version} {p.build}": {"sha256": p.sha256, "md5": p.md5}
        for p in plan.environment.locked_packages
    }
    if conda_locked:  # poetry-docker.lock's hashes of the conda packages (none unlocked)
        inputs["conda_locked"] = conda_locked
    return json.dumps(inputs, indent=1, sort_keys=True) + "\n"
