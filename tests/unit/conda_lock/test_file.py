"""poetry-docker.lock from values in memory: read back as written, every hostile value
refused, stale inputs named, and the plan held to it (explicit spec, FROM by digest)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from poetry_docker_plugin.conda_lock.file import (
    CondaLock,
    LockedBase,
    LockedPackage,
    LockInputs,
    conda_lock_text,
    parse_conda_lock,
)

INPUTS = LockInputs("conda", "3.11", ("actdemo",), ("conda-forge",), ("team/base:1",),
                    ("linux/amd64",))  # fmt: skip
PACKAGE = LockedPackage(
    platform="linux-64",
    channel="conda-forge",
    name="python",
    version="3.11.2",
    build="h_offline_0",
    url="https://conda.example.org/conda-forge/linux-64/python-3.11.2-h_offline_0.tar.bz2",
    sha256="0" * 64,
)
BASE = LockedBase("team/base:1", "linux/amd64", "sha256:" + "a" * 64, local=False)
LOCK = CondaLock(INPUTS, (BASE,), (PACKAGE,))


def document(lock: CondaLock = LOCK) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(conda_lock_text(lock))


def test_the_lock_reads_back_as_written() -> None:
    assert parse_conda_lock(document()) == LOCK
    assert PACKAGE.explicit_line.endswith("#sha256:" + "0" * 64)
    md5_only = dataclasses.replace(PACKAGE, sha256="", md5="1" * 32)
    assert md5_only.explicit_line.endswith(".tar.bz2#" + "1" * 32)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "https://user:secret@conda.example.org/c/linux-64/python-3.tar.bz2"),
        ("url", "https://conda.example.org/t/tk-123/c/linux-64/python-3.tar.bz2"),
        ("url", "ftp://conda.example.org/c/linux-64/python-3.tar.bz2"),
        ("url", "https://conda.example.org/c/python-3.tar.bz2; rm -rf /"),
        ("url", "https://conda.example.org/c/python-3.tar.bz2?x=1"),
        ("url", "https://conda.example.org/c/python'$(id)'.tar.bz2"),
        ("sha256", "0" * 63),
        ("sha256", "Z" * 64),
        ("name", "python\nRUN id"),
        ("version", "3.11 && id"),
        ("build", "$(id)"),
        ("channel", "https://user:pw@example.org/c"),
    ],
)
def test_hostile_values_are_refused(field: str, value: str) -> None:
    package = document()["package"][0]
    package[field] = value
    with pytest.raises((ValueError, KeyError)):
        parse_conda_lock({**document(), "package": [package]})


def test_edited_inputs_and_base_digests_are_refused() -> None:
    edited = document()
    edited["inputs"]["python"] = "3.12"
    with pytest.raises(ValueError, match="inputs were edited"):
        parse_conda_lock(edited)
    base = document()
    base["base-image"][0]["digest"] = "sha256:xyz"
    with pytest.raises(ValueError, match="digest"):
        parse_conda_lock(base)


def test_changes_name_what_differs() -> None:
    wanted = dataclasses.replace(INPUTS, python="3.12", platforms=("linux/arm64",))
    changes = INPUTS.changes(wanted)
    assert changes == ['python was "3.11" and is "3.12"', "the platform linux/arm64 is not locked"]
    assert INPUTS.changes(INPUTS) == []
    assert INPUTS.digest != wanted.digest
