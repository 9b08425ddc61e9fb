"""What differs between two images of an engine: their configs, and each layer's entries (name,
type, mode, owner, time, size, content digest), read from ``docker save`` archives a layer at a
time. What a failed bit-identity test prints instead of two bare ids.

Usage: ``python tests/image_diff.py IMAGE_A IMAGE_B`` (``DOCKER_HOST`` picks the engine).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import IO

DOCKER = os.environ.get("POETRY_DOCKER_ENGINE", "/usr/bin/docker")
Entry = tuple[str, int, int, int, int, str]  # type, mode, owner, mtime, size, digest


def layer_entries(stream: IO[bytes]) -> dict[str, Entry]:
    """Each entry of a layer tar by name, its content hashed as it is read."""
    entries: dict[str, Entry] = {}
    with tarfile.open(fileobj=stream, mode="r|", errors="surrogateescape") as layer:
        for member in layer:
            digest = ""
            data = layer.extractfile(member) if member.isreg() else None
            if data is not None:
                digest = hashlib.sha256(data.read()).hexdigest()[:16]
            elif member.issym() or member.islnk():
                digest = f"-> {member.linkname}"
            owner = member.uid * 100000 + member.gid
            pax = ",".join(sorted(member.pax_headers))
            kind = f"{member.type.decode(errors='replace')}{'+' + pax if pax else ''}"
            mtime = int(member.mtime)
            entries[member.name] = (kind, member.mode, owner, mtime, member.size, digest)
    return entries


def saved(image: str, directory: Path, docker: tuple[str, ...]) -> Path:
    path = directory / f"{hashlib.sha256(image.encode()).hexdigest()[:12]}.tar"
    subprocess.run([*docker, "save", "--output", str(path), image], check=True)
    return path


def describe(path: Path) -> tuple[dict[str, object], list[tuple[str, dict[str, Entry]]]]:
    """The config and each layer's entries of a saved image."""
    with tarfile.open(path) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]  # type: ignore[arg-type]
        config = json.load(archive.extractfile(manifest["Config"]))  # type: ignore[arg-type]
        layers = []
        for name in manifest["Layers"]:
            stream = archive.extractfile(name)
            assert stream is not None
            layers.append((name, layer_entries(stream)))
    return config, layers


def differences(a: str, b: str, docker: tuple[str, ...] = (DOCKER,), limit: int = 60) -> str:
    """The differences of images ``a`` and ``b``, in lines (at most ``limit`` entries)."""
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pdp-diff-") as scratch:
        config_a, layers_a = describe(saved(a, Path(scratch), docker))
        config_b, layers_b = describe(saved(b, Path(scratch), docker))
    for key in sorted(set(config_a) | set(config_b)):
        if key != "rootfs" and config_a.get(key) != config_b.get(key):
            left, right = json.dumps(config_a.get(key)), json.dumps(config_b.get(key))
            lines.append(f"config {key}: {left[:300]} != {right[:300]}")
    if len(layers_a) != len(layers_b):
        lines.append(f"{len(layers_a)} layers != {len(layers_b)} layers")
    for index, ((_, one), (_, two)) in enumerate(zip(layers_a, layers_b, strict=False)):
        if list(one) != list(two) and sorted(one) == sorted(two):
            lines.append(f"layer {index}: the same entries in another order")
        for name in sorted(set(one) | set(two)):
            if one.get(name) != two.get(name):
                lines.append(f"layer {index} {name}: {one.get(name)} != {two.get(name)}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more"]
    return "\n".join(lines) or "no difference in configs or layer entries"


if __name__ == "__main__":
    print(differences(sys.argv[1], sys.argv[2]))
