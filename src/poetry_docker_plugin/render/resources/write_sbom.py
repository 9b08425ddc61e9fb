"""The SBOM step of the image: run by the environment's own Python, inside the image.

What the image holds is only known there: pip, setuptools and whatever the environment came
with besides the lock, and the conda packages that ``conda create`` chose. So this file is
copied into the build context under its own name and run after the project is installed, by the
environment's Python with the standard library alone (nothing is installed for it): it reads
the distributions that Python sees (what ``pip list`` lists) and ``<prefix>/conda-meta`` (what
``conda list`` lists of conda's own packages), adds what the host knows (the lock's hashes, the
project's name and version, in ``sbom-inputs.json``) and writes a CycloneDX 1.6 JSON document.

The document is a function of what is installed and of the inputs alone: components sorted,
no timestamp, a serial number derived from the content, JSON with sorted keys. Two builds
from the same inputs give the same bytes.

It runs on every Python an image may have (3.8 and later), so it uses nothing newer. With
``--root ROOT`` (a build for another platform) it reads the image's files under ROOT, run by
the build platform's venv of the same Python release.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

SPEC_VERSION = "1.6"
# CycloneDX's names for the hash algorithms of locks and conda packages.
HASH_NAMES = {"md5": "MD5", "sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512"}
# What pip list leaves out (pip's own ``stdlib_pkgs``), so the lists agree.
PIP_LIST_SKIPS = ("python", "wsgiref", "argparse")
PROPERTY = "poetry-docker"


def canonical_name(name: str) -> str:
    """PEP 503's normalised name, by which pip and the lock match distributions."""
    return re.sub(r"[-_.]+", "-", name).lower()


def purl(kind: str, name: str, version: str, qualifiers: dict[str, str] | None = None) -> str:
    """A package URL (``pkg:TYPE/NAME@VERSION?k=v``), percent-encoded, qualifiers sorted.

    PyPI names are lowercased with ``_`` as ``-``, as the purl specification says.
    """
    if kind == "pypi":
        name = name.lower().replace("_", "-")
    text = f"pkg:{kind}/{quote(name, safe='')}@{quote(version, safe='')}"
    pairs = sorted((k, v) for k, v in (qualifiers or {}).items() if v)
    if pairs:
        text += "?" + "&".join(f"{k}={quote(v, safe='/:')}" for k, v in pairs)
    return text


def wheel_tags(filename: str) -> frozenset[str]:
    """The tags a wheel's file name declares (``py3-none-any``), expanded; empty if not one."""
    if not filename.endswith(".whl"):
        return frozenset()
    parts = filename[: -len(".whl")].split("-")
    if len(parts) not in (5, 6):
        return frozenset()
    pythons, abis, platforms = (part.split(".") for part in parts[-3:])
    return frozenset(f"{p}-{a}-{x}" for p in pythons for a in abis for x in platforms)


def installed_file_hashes(
    wheel_metadata: str | None, locked_files: dict[str, str]
) -> list[dict[str, str]]:
    """The lock's hash of the file pip installed, as CycloneDX ``hashes``.

    The installed ``.dist-info/WHEEL`` lists the tags of the wheel it came from; the one
    locked wheel with exactly those tags is that file. A package built in the image (an
    sdist, a git commit) matches none: its hashes would describe another file, so it gets none.
    """
    if not wheel_metadata:
        return []
    tags = frozenset(
        line.split(":", 1)[1].strip()
        for line in wheel_metadata.splitlines()
        if line.startswith("Tag:")
    )
    matches = [h for name, h in locked_files.items() if tags and wheel_tags(name) == tags]
    if len(matches) != 1:
        return []
    algorithm, _, digest = matches[0].partition(":")
    if algorithm not in HASH_NAMES or not digest:
        return []
    return [{"alg": HASH_NAMES[algorithm], "content": digest.lower()}]


def python_components(
    distributions: Iterable[tuple[str, str, str | None, str | None]],
    locked: dict[str, dict[str, dict[str, str]]],
    conda_owned: dict[str, str],
) -> list[dict[str, Any]]:
    """One ``pkg:pypi`` component per distribution Python sees, as ``pip list`` lists them.

    ``distributions`` are (name, version, WHEEL file text, dist-info path relative to the
    prefix) in ``sys.path`` order: the first of a name wins, as for pip. ``locked`` holds the
    lock's hashes by normalised name, version and file name. ``conda_owned`` maps
    dist-info paths to the conda package that installed them (pip in a conda environment),
    named in a property so that the two records of one thing can be told apart.
    """
    seen: set[str] = set()
    components = []
    for name, version, wheel, location in distributions:
        key = canonical_name(name)
        if key in seen or key in PIP_LIST_SKIPS:
            continue
        seen.add(key)
        reference = purl("pypi", name, version)
        component: dict[str, Any] = {
            "type": "library",
            "bom-ref": reference,
            "name": name,
            "version": version,
            "purl": reference,
        }
        hashes = installed_file_hashes(wheel, locked.get(key, {}).get(version, {}))
        if hashes:
            component["hashes"] = hashes
        owner = conda_owned.get(location or "")
        if owner:
            component["properties"] = [{"name": f"{PROPERTY}:conda-package", "value": owner}]
        components.append(component)
    return components


def channel_name(channel: str, subdir: str) -> str:
    """A conda channel as a purl names it: conda.anaconda.org's by name, others by URL.

    The subdirectory (``linux-64``) is a qualifier of its own; credentials (``user:pass@``,
    ``/t/TOKEN``) never stay in it.
    """
    parts = urlsplit(channel)
    path = re.sub(r"^/t/[^/]+", "", parts.path).rstrip("/")
    if subdir and path.endswith(f"/{subdir}"):
        path = path[: -len(subdir) - 1]
    if parts.hostname in ("conda.anaconda.org", "repo.anaconda.com"):
        return path.strip("/")
    if not parts.scheme:
        return channel
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def conda_components(
    records: list[dict[str, Any]], locked: dict[str, dict[str, str]] | None = None
) -> list[dict[str, Any]]:
    """One ``pkg:conda`` component per record of ``conda-meta`` (``conda list`` minus pypi).

    ``locked``: poetry-docker.lock's hashes by "name version build", which the build checked
    the package files against; they win over conda-meta's (an explicit install records
    only the hash its spec named), and the component says it is locked.
    """
    components = []
    for record in records:
        subdir = str(record.get("subdir", ""))
        qualifiers = {
            "build": str(record.get("build", "")),
            "channel": channel_name(str(record.get("channel", "")), subdir),
            "subdir": subdir,
        }
        reference = purl("conda", record["name"], record["version"], qualifiers)
        component: dict[str, Any] = {
            "type": "library",
            "bom-ref": reference,
            "name": record["name"],
            "version": record["version"],
            "purl": reference,
        }
        hashes = [
            {"alg": HASH_NAMES[key], "content": str(record[key]).lower()}
            for key in ("md5", "sha256")
            if record.get(key)
        ]
        key = f"{record['name']} {record['version']} {record.get('build', '')}"
        pinned = (locked or {}).get(key)
        if pinned:
            hashes = [
                {"alg": HASH_NAMES[name], "content": pinned[name]}
                for name in ("md5", "sha256")
                if pinned.get(name)
            ]
            component["properties"] = [{"name": f"{PROPERTY}:conda-lock", "value": "locked"}]
        if hashes:
            component["hashes"] = hashes
        components.append(component)
    return components


def document(
    inputs: dict[str, Any], components: list[dict[str, Any]], python: str
) -> dict[str, Any]:
    """The CycloneDX document: the project as its subject, every component sorted.

    The project's own distribution is the subject (``metadata.component``), not a component
    beside its dependencies. The serial number is a UUID named by the digest of the rest, so
    that it changes exactly when the content does.
    """
    project = inputs["project"]
    subject: dict[str, Any] = {
        "type": "application",
        "bom-ref": f"project:{project['name']}",
        "name": project["name"],
        "version": project["version"],
    }
    if project.get("package_mode"):
        subject["purl"] = subject["bom-ref"] = purl("pypi", project["name"], project["version"])
        own = canonical_name(project["name"])
        components = [
            c
            for c in components
            if not (c["purl"].startswith("pkg:pypi/") and canonical_name(c["name"]) == own)
        ]
    environment = inputs["environment"]
    bom: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "tools": {
                "components": [
                    {"type": "application", "name": inputs["tool"]["name"]},
                ]
            },
            "component": subject,
            "properties": [
                {"name": f"{PROPERTY}:environment-manager", "value": environment["manager"]},
                {"name": f"{PROPERTY}:environment-prefix", "value": environment["prefix"]},
                {"name": f"{PROPERTY}:python", "value": python},
            ],
        },
        "components": sorted(components, key=lambda c: (c["purl"], c["name"])),
    }
    bom["serialNumber"] = serial_number(bom)
    return bom


def serial_number(bom: dict[str, Any]) -> str:
    """``urn:uuid:`` of a name-based UUID of the document's content (without the serial)."""
    content = {key: value for key, value in bom.items() if key != "serialNumber"}
    digest = hashlib.sha256(dumps(content).encode()).hexdigest()
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'sha256:{digest}')}"


def dumps(bom: dict[str, Any]) -> str:
    """Stable JSON: sorted keys, two-space indents, ASCII, a final newline."""
    return json.dumps(bom, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def installed_distributions(
    prefix: Path, root: Path | None = None
) -> list[tuple[str, str, str | None, str | None]]:
    """(name, version, WHEEL text, dist-info path relative to ``prefix``), in sys.path order:
    this Python's, or under ``root`` the same paths of an image of another platform, which
    this Python stands in for (the same release at the same path)."""
    from importlib.metadata import distributions

    found = []
    path = None if root is None else [str(root) + entry for entry in sys.path if entry[:1] == "/"]
    for distribution in distributions(path=path) if path is not None else distributions():
        name = distribution.metadata["Name"]
        if not name:
            continue
        location = getattr(distribution, "_path", None)
        relative = None
        if location is not None:
            try:
                relative = Path(location).resolve().relative_to(prefix.resolve()).as_posix()
            except ValueError:
                relative = None
        found.append((name, distribution.version, distribution.read_text("WHEEL"), relative))
    return found


def conda_records(prefix: Path) -> list[dict[str, Any]]:
    """The records of ``<prefix>/conda-meta`` (none in a venv)."""
    meta = prefix / "conda-meta"
    if not meta.is_dir():
        return []
    return [json.loads(path.read_text()) for path in sorted(meta.glob("*.json"))]


def conda_owned_dist_infos(records: list[dict[str, Any]]) -> dict[str, str]:
    """dist-info directories (relative to the prefix) installed by conda packages -> purl."""
    owned = {}
    components = conda_components(records)
    for index, record in enumerate(records):
        for file in record.get("files", ()):
            head, _, rest = file.partition(".dist-info/")
            if rest:
                owned[f"{head}.dist-info"] = components[index]["purl"]
    return owned


def main(arguments: list[str]) -> int:
    root = None
    if arguments[:1] == ["--root"]:
        root, arguments = Path(arguments[1]), arguments[2:]
    inputs_path, output_path = arguments
    inputs = json.loads(Path(inputs_path).read_text())
    prefix = Path(str(root or "") + inputs["environment"]["prefix"])
    records = conda_records(prefix)
    components = python_components(
        installed_distributions(prefix, root), inputs["locked"], conda_owned_dist_infos(records)
    )
    components += conda_components(records, inputs.get("conda_locked"))
    output = Path(output_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    python = ".".join(str(part) for part in sys.version_info[:3])
    output.write_text(dumps(document(inputs, components, python)))
    output.chmod(0o644)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
