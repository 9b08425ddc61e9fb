"""``poetry-docker.lock``: what poetry.lock cannot hold, read once and checked, and written.

poetry.lock pins the PyPI side of the image; the conda side (python, pip, the
``conda-packages``) and the base images were solved and pulled anew by every cold build. This
file pins them: per platform every conda package of the environment with its URL and hash,
each base image's digest, and the inputs it was solved from with their digest, so that a
stale lock is told apart from a current one as ``poetry check --lock`` tells a stale
poetry.lock.

The file is untrusted input like poetry.lock: it may be edited by hand or by a merge. Every
value is checked against the form it must have before anything renders it into a Dockerfile,
a shell word or an explicit spec (names, versions and builds of a few safe characters; URLs
http(s) or file, without credentials, query or fragment, naming a package file; hashes hex
of their length), so that no value can start a command or carry a credential. The TOML is
written by hand from checked values, one package a table, so that a diff shows one line per
changed fact.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poetry_docker_plugin.errors import DockerPluginError

if TYPE_CHECKING:
    from pathlib import Path

CONDA_LOCK_FILE = "poetry-docker.lock"
FORMAT_VERSION = 1

NAME_RE = re.compile(r"[a-z0-9_][a-z0-9_.\-]{0,199}")
VERSION_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+!\-]{0,99}")
SUBDIR_RE = re.compile(r"noarch|[a-z0-9]+-[a-z0-9_]+")
# A package's URL: no user info (no "@"), no query, fragment, quote, space or "$".
URL_RE = re.compile(r"(https?|file)://[A-Za-z0-9._~%+:/\-]+\.(tar\.bz2|conda)")
CHANNEL_RE = re.compile(r"((https?|file)://)?[A-Za-z0-9._~%+:/\-]{1,300}")
REFERENCE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@\-]{0,300}")
PLATFORM_RE = re.compile(r"linux/[a-z0-9_]+(/v[0-9]+)?")
HEX = {"sha256": re.compile(r"[0-9a-f]{64}"), "md5": re.compile(r"[0-9a-f]{32}")}
IMAGE_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
MANAGERS = ("conda", "micromamba", "venv")
SPEC_RE = re.compile(r"[^\x00-\x1f\x7f]{1,300}")
# A lock of the largest environments is a few hundred kilobytes; more is not this plugin's.
MAX_LOCK_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class LockInputs:
    """What the lock was solved from: when any differs from the project's, it is stale."""

    env_manager: str
    python: str
    conda_packages: tuple[str, ...]
    conda_channels: tuple[str, ...]  # as the Dockerfile names them: never with credentials
    base_images: tuple[str, ...]  # the base, then the runtime stage's base when there is one
    platforms: tuple[str, ...]  # "linux/amd64"

    def as_dict(self) -> dict[str, Any]:
        return {
            "env-manager": self.env_manager,
            "python": self.python,
            "conda-packages": list(self.conda_packages),
            "conda-channels": list(self.conda_channels),
            "base-images": list(self.base_images),
            "platforms": list(self.platforms),
        }

    @property
    def digest(self) -> str:
        """The sha256 of the inputs in a canonical JSON form (the image's label carries it)."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def changes(self, wanted: LockInputs) -> list[str]:
        """What differs between the locked inputs and ``wanted`` (the project's now), in words;
        a platform of ``wanted`` missing from the lock counts, further locked ones do not."""
        locked, now = self.as_dict(), wanted.as_dict()
        said = [
            f"{key} was {json.dumps(locked[key])} and is {json.dumps(now[key])}"
            for key in locked
            if key != "platforms" and locked[key] != now[key]
        ]
        missing = [p for p in wanted.platforms if p not in self.platforms]
        if missing:
            said.append(f"the platform {', '.join(missing)} is not locked")
        return said


@dataclass(frozen=True)
class LockedBase:
    """A base image as locked: its registry digest, or (``local``) the id of a local image."""

    reference: str
    platform: str
    digest: str
    local: bool


@dataclass(frozen=True)
class LockedPackage:
    """One conda package of one platform's environment, with where it came from and its hash."""

    platform: str  # the conda subdir of the environment (linux-64), not of the package
    channel: str
    name: str
    version: str
    build: str
    url: str
    sha256: str = ""
    md5: str = ""

    @property
    def explicit_line(self) -> str:
        """The line of conda's ``@EXPLICIT`` spec: the URL and its strongest hash."""
        return f"{self.url}#sha256:{self.sha256}" if self.sha256 else f"{self.url}#{self.md5}"

    @property
    def file_name(self) -> str:
        return self.url.rpartition("/")[2]

    def check_file_name(self) -> None:
        """The URL's file is this package: conda names it NAME-VERSION-BUILD.tar.bz2 (or
        .conda), so a version edited by hand (the image would hold the URL's package and the
        SBOM the edited version) is refused."""
        stem = self.file_name.removesuffix(".conda").removesuffix(".tar.bz2")
        if stem != f"{self.name}-{self.version}-{self.build}":
            raise ValueError(
                f"the package {self.name} {self.version} ({self.build}) has the URL of the file "
                f"{self.file_name}, which is another package: the lock was edited"
            )


@dataclass(frozen=True)
class CondaLock:
    """The whole file, checked: its inputs, base images and packages."""

    inputs: LockInputs
    bases: tuple[LockedBase, ...]
    packages: tuple[LockedPackage, ...]
    source_digest: str = ""  # the sha256 of the file's text, when read from one

    def packages_for(self, subdir: str) -> tuple[LockedPackage, ...]:
        return tuple(p for p in self.packages if p.platform == subdir)

    def base(self, reference: str, platform: str) -> LockedBase | None:
        found = (b for b in self.bases if b.reference == reference and b.platform == platform)
        return next(found, None)


def read_conda_lock(path: Path) -> CondaLock | None:
    """The lock beside poetry.lock, checked; None when there is none."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_LOCK_BYTES + 1)
    except FileNotFoundError:
        return None
    if len(data) > MAX_LOCK_BYTES:
        raise DockerPluginError(
            f"{path} is larger than {MAX_LOCK_BYTES // 1024 // 1024} MB, far more than a lock "
            "of this plugin holds: it was not read. Restore it from version control, or "
            "delete it and run `poetry docker lock` again."
        )
    try:
        text = data.decode("utf-8")
        lock = parse_conda_lock(_loads(text))
    except RecursionError:  # tomllib on arrays nested thousands deep
        raise DockerPluginError(
            f"{path} is not a valid lock of this plugin (its values are nested too deep to "
            "read). It is written by `poetry docker lock`: restore it from version control, "
            "or delete it and run `poetry docker lock` again."
        ) from None
    except (ValueError, TypeError, KeyError, AttributeError) as error:  # TOMLDecodeError too
        raise DockerPluginError(
            f"{path} is not a valid lock of this plugin ({error}). It is written by `poetry "
            "docker lock`: restore it from version control, or delete it and run `poetry "
            "docker lock` again."
        ) from error
    return dataclasses.replace(lock, source_digest=hashlib.sha256(text.encode()).hexdigest())


def _loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Poetry brings tomli to Pythons without tomllib
        import tomli as tomllib
    return tomllib.loads(text)


def _text(table: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    value = table[key]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{key} = {value!r} is not of the form this lock allows")
    return value


def _texts(table: dict[str, Any], key: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    values = table[key]
    if not isinstance(values, list):
        raise ValueError(f"{key} is not a list")
    return tuple(_text({key: value}, key, pattern) for value in values)


def _url(table: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    """A URL of the lock: of its form, and without anaconda.org's ``/t/TOKEN``."""
    value = _text(table, key, pattern)
    if re.search(r"://[^/]*/t/", value):
        raise ValueError(f"{key} = {value!r} carries a token (/t/...): credentials are refused")
    return value


def parse_conda_lock(document: dict[str, Any]) -> CondaLock:
    """The checked lock from its TOML document; ValueError (or KeyError) for anything else."""
    if document.get("version") != FORMAT_VERSION:
        raise ValueError(f"version {document.get('version')!r} is not {FORMAT_VERSION}")
    table = document["inputs"]
    if not isinstance(table, dict):
        raise ValueError("[inputs] is not a table")
    inputs = LockInputs(
        env_manager=_text(table, "env-manager", re.compile("|".join(MANAGERS))),
        python=_text(table, "python", re.compile(r"3\.[0-9]{1,2}")),
        conda_packages=_texts(table, "conda-packages", SPEC_RE),
        conda_channels=tuple(_url({"c": c}, "c", CHANNEL_RE) for c in table["conda-channels"]),
        base_images=_texts(table, "base-images", REFERENCE_RE),
        platforms=_texts(table, "platforms", PLATFORM_RE),
    )
    if table.get("digest") != inputs.digest:
        raise ValueError("the digest of [inputs] does not match them: the inputs were edited")
    bases = []
    for entry in document.get("base-image", []):
        local = entry["local"]
        if not isinstance(local, bool):
            raise ValueError(f"local = {local!r} is not true or false")
        bases.append(
            LockedBase(
                reference=_text(entry, "reference", REFERENCE_RE),
                platform=_text(entry, "platform", PLATFORM_RE),
                digest=_text(entry, "digest", IMAGE_DIGEST_RE),
                local=local,
            )
        )
    packages = []
    for entry in document.get("package", []):
        hashes = {
            name: _text(entry, name, pattern) for name, pattern in HEX.items() if name in entry
        }
        if not hashes:
            raise ValueError(f"the package {entry.get('name')!r} has neither sha256 nor md5")
        package = LockedPackage(
            platform=_text(entry, "platform", SUBDIR_RE),
            channel=_url(entry, "channel", CHANNEL_RE),
            name=_text(entry, "name", NAME_RE),
            version=_text(entry, "version", VERSION_RE),
            build=_text(entry, "build", VERSION_RE),
            url=_url(entry, "url", URL_RE),
            **hashes,
        )
        package.check_file_name()
        packages.append(package)
    return CondaLock(inputs, tuple(bases), tuple(packages))


def _toml(value: object) -> str:
    """A TOML value: checked strings hold no control character, so JSON's quoting is TOML's."""
    return json.dumps(value, ensure_ascii=True)


def conda_lock_text(lock: CondaLock) -> str:
    """The file's text: stable order, one fact a line, so that diffs read like poetry.lock's."""
    lines = [
        "# This file is written by `poetry docker lock` (poetry-docker-plugin): do not edit it.",
        "# It pins what poetry.lock cannot: the conda packages and the base images.",
        f"version = {FORMAT_VERSION}",
        "",
        "[inputs]",
        f"digest = {_toml(lock.inputs.digest)}",
        *(f"{key} = {_toml(value)}" for key, value in lock.inputs.as_dict().items()),
    ]
    for base in sorted(lock.bases, key=lambda b: (b.reference, b.platform)):
        lines += ["", "[[base-image]]"]
        lines += [f"reference = {_toml(base.reference)}", f"platform = {_toml(base.platform)}"]
        lines += [f"digest = {_toml(base.digest)}", f"local = {_toml(base.local)}"]
    for package in sorted(lock.packages, key=lambda p: (p.platform, p.name, p.version)):
        lines += ["", "[[package]]"]
        for key in ("name", "version", "build", "platform", "channel", "url", "sha256", "md5"):
            if value := getattr(package, key):
                lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def checked(lock: CondaLock) -> CondaLock:
    """``lock`` as reading its text gives it back: what the solve found passes the checks a
    read would make, before it is written (a hostile channel's values are refused here)."""
    try:
        return parse_conda_lock(_loads(conda_lock_text(lock)))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise DockerPluginError(
            f"The solve gave a value that the lock does not allow ({error}); nothing was "
            "written. Check the channels' packages."
        ) from error
