"""Every input of an image, in one value (``ImageInputs``), and the two things derived from it
alone: the key of the no-change record (``record_key``) and the build options' part of the
fingerprint (``fingerprint_options``).

Why one value: an input that reached the fingerprint but not the record's key (the epoch of a
reproducible build did) makes a call answer "up to date" from the record for an image of other
inputs, while the same call with one more option rebuilds it. Here both are computed from the
same fields, by reflection over the command's options and the settings' fields; what does not
change the image is listed, with why, in ``NOT_IMAGE_OPTIONS`` and ``NOT_IMAGE_SETTINGS``
(a unit test fails on an option or a setting that is in neither those lists nor the value).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from poetry_docker_plugin.freshness.request import BuildRequest
    from poetry_docker_plugin.project.settings import Settings

# Options of the commands that do not change the image, and why (reviewed: keep it short).
NOT_IMAGE_OPTIONS: dict[str, str] = {
    "print": "writes files and builds nothing: never answered from the record",
    "output": "writes files and builds nothing: never answered from the record",
    "sbom": "reads the built image: never answered from the record",
    "push": "publishes (with the inline cache, a request field): never answered from the record",
    "digest-file": "written after a push: never answered from the record",
    "rebuild": "how the image is made current, not what it is made of",
    "no-build": "how the image is made current, not what it is made of",
    "env": "the container's, not the image's",
    "publish": "the container's, not the image's",
    "volume": "the container's, not the image's",
    "name": "the container's, not the image's",
    "gpus": "the container's, not the image's",
    "command": "what the shell runs in the container",
    "read-only": "how the shell mounts the working tree into the container",
}

# Settings that do not change an image's content, and why.
NOT_IMAGE_SETTINGS: dict[str, str] = {
    "image": "the image's name: the tags are where it is, not what it holds",
    "tags": "the image's names: the tags are where it is, not what it holds",
    "cache_from": "where the engine may find layers, not what they hold",
    "platforms": "which images --push makes: each one's platform is an input of its own",
    "ca_bundle": "given to the build as a secret, never in a layer",
}

# Fields of the request that do not change an image's content, and why.
NOT_IMAGE_REQUEST: dict[str, str] = {
    "tags": "the image's names, not what it holds",
    "no_cache": "how the image is made, not what it is made of",
    "network": "the build steps' network: what they fetch is pinned by the lock's hashes",
    "inline_cache": "a label that the builder checks of its own (``ensure_image``)",
}

# Environment variables that name the engine: another engine holds other images.
ENGINE_VARIABLES = ("POETRY_DOCKER_ENGINE", "DOCKER_HOST", "DOCKER_CONTEXT", "CONTAINER_HOST")


@dataclass(frozen=True)
class GivenInputs:
    """What the command line and the environment give, read without Poetry (the record's
    path has not loaded the project): everything else of an image is in files the record
    stamps (pyproject.toml, the locks, the sources)."""

    options: tuple[tuple[str, str], ...]  # every option but NOT_IMAGE_OPTIONS, as JSON
    development: bool
    conda_lock: bool  # whether poetry-docker.lock exists: one made after the record counts
    # The epoch a reproducible image carries (``reproducible.source_epoch``): the record's
    # path cannot tell whether pyproject.toml asks for one, so it is always part of the key.
    epoch: int
    environment: tuple[tuple[str, str], ...]  # ENGINE_VARIABLES that are set

    @classmethod
    def read(
        cls,
        options: Mapping[str, object],
        root: Path,
        *,
        development: bool,
        conda_lock: bool,
        environ: Mapping[str, str] | None = None,
    ) -> GivenInputs:
        """The inputs of a command whose option values are ``options`` (name: value)."""
        from poetry_docker_plugin.freshness.epoch import source_epoch

        environ = os.environ if environ is None else environ
        kept = sorted(
            (name, json.dumps(value, sort_keys=True, default=str))
            for name, value in options.items()
            if name not in NOT_IMAGE_OPTIONS
        )
        return cls(
            options=tuple(kept),
            development=development,
            conda_lock=conda_lock,
            epoch=source_epoch(root, environ).seconds,
            environment=tuple((n, environ[n]) for n in ENGINE_VARIABLES if environ.get(n)),
        )

    def record_key(self) -> str:
        """The no-change record's key: these inputs, the Poetry running, this machine's
        architecture and the plugin itself (its files, by size and time)."""
        import hashlib
        import platform

        from poetry.__version__ import __version__ as poetry_version

        from poetry_docker_plugin.freshness.current import package_stamp

        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        digest = hashlib.sha256(text.encode())
        digest.update(f"{poetry_version}\0{platform.machine()}\0".encode())
        digest.update(package_stamp().encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class ImageInputs:
    """Every input of one image but the project's files and the base images: what the
    command line and the environment give, the settings with the options applied, and the
    request made of both (whose epoch is the given one when the image is reproducible)."""

    given: GivenInputs
    settings: Settings
    request: BuildRequest

    def record_key(self) -> str:
        return self.given.record_key()

    def fingerprint_options(self) -> dict[str, str]:
        """The part of the fingerprint that the rendered files need not show: every setting
        but NOT_IMAGE_SETTINGS, and every field of the request but NOT_IMAGE_REQUEST."""
        return {
            "settings": _fields_json(self.settings, NOT_IMAGE_SETTINGS),
            "request": _fields_json(self.request, NOT_IMAGE_REQUEST),
        }


def _fields_json(value: object, left_out: Mapping[str, str]) -> str:
    """The fields of a dataclass ``value`` but those ``left_out``, as one JSON text."""
    kept = {
        field.name: getattr(value, field.name)
        for field in dataclasses.fields(value)  # type: ignore[arg-type]
        if field.name not in left_out
    }
    return json.dumps(kept, sort_keys=True, default=_plain)


def _plain(value: object) -> object:
    """Sets sorted (frozenset of groups), anything else by its text (a platform)."""
    return sorted(value) if isinstance(value, frozenset | set) else str(value)
