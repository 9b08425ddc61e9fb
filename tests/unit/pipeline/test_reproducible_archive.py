"""The pure parts of reproducible builds: the layer and config normalisation on in-memory
archives, the epoch's choice, and what the Dockerfile renders for it."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from typing import TYPE_CHECKING

import pytest

from poetry_docker_plugin.freshness.epoch import source_epoch
from poetry_docker_plugin.names import ZIP_EPOCH
from poetry_docker_plugin.pipeline.reproducible_archive import (
    normalise_config,
    normalise_layer,
    normalise_saved,
    rfc3339,
    write_archive,
)
from tests.unit.render.test_dockerfile import rendered

if TYPE_CHECKING:
    from pathlib import Path

EPOCH = 1_700_000_000


def layer(clock: float, *, extra_pax: bool = True) -> bytes:
    """A layer as an engine writes it: a directory, files, a hard and a symbolic link, a
    whiteout, an old file (before the epoch), times of the clock in PAX records."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:

        def add(
            name: str, kind: bytes, data: bytes = b"", mtime: float = clock, **more: str
        ) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mtime, info.size = kind, mtime, len(data)
            info.mode, info.uid, info.gid = 0o755 if kind == tarfile.DIRTYPE else 0o644, 0, 0
            for key, value in more.items():
                setattr(info, key, value)
            pax = {"atime": f"{clock:.9f}", "ctime": f"{clock:.9f}"} if extra_pax else {}
            info.pax_headers = {**pax, "SCHILY.xattr.user.note": "kept"}
            archive.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        add("opt/", tarfile.DIRTYPE)
        add("opt/venv/lib/mod.cpython-311.pyc", tarfile.REGTYPE, b"\x0d\x0d" + b"x" * 5000)
        add("opt/old.txt", tarfile.REGTYPE, b"old", mtime=1_000_000_000)
        add("opt/link", tarfile.LNKTYPE, linkname="opt/old.txt")
        add("opt/sym", tarfile.SYMTYPE, linkname="old.txt")
        add("opt/.wh.gone", tarfile.REGTYPE)
    return buffer.getvalue()


def normalised(data: bytes) -> tuple[bytes, str]:
    target = io.BytesIO()
    digest = normalise_layer(io.BytesIO(data), target, EPOCH)
    return target.getvalue(), digest


def test_two_layers_that_differ_only_in_times_become_the_same_bytes() -> None:
    one, digest_one = normalised(layer(EPOCH + 123.456789))
    two, digest_two = normalised(layer(EPOCH + 98765.4321))
    assert layer(EPOCH + 123.456789) != layer(EPOCH + 98765.4321)
    assert one == two and digest_one == digest_two
    assert digest_one == f"sha256:{hashlib.sha256(one).hexdigest()}"


def test_times_are_clamped_and_the_rest_kept_in_order() -> None:
    data, _ = normalised(layer(EPOCH + 50.5))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = archive.getmembers()
        names = [m.name for m in members]
        assert names == [
            "opt",
            "opt/venv/lib/mod.cpython-311.pyc",
            "opt/old.txt",
            "opt/link",
            "opt/sym",
            "opt/.wh.gone",
        ]
        times = {m.name: m.mtime for m in members}
        assert times["opt/old.txt"] == 1_000_000_000, "older than the epoch: kept"
        assert times["opt/venv/lib/mod.cpython-311.pyc"] == EPOCH
        for member in members:
            assert not {"atime", "ctime", "mtime"} & set(member.pax_headers)
            assert member.pax_headers["SCHILY.xattr.user.note"] == "kept"
        by_name = {m.name: m for m in members}
        assert by_name["opt/link"].islnk() and by_name["opt/link"].linkname == "opt/old.txt"
        assert by_name["opt/sym"].issym() and by_name["opt/sym"].linkname == "old.txt"
        stream = archive.extractfile("opt/venv/lib/mod.cpython-311.pyc")
        assert stream is not None and stream.read() == b"\x0d\x0d" + b"x" * 5000


def config(clock: str, diff_ids: list[str]) -> dict[str, object]:
    return {
        "architecture": "amd64",
        "config": {"Labels": {"a": "b"}},
        "created": clock,
        "history": [
            {"created": "2020-01-01T00:00:00Z", "created_by": "base"},
            {"created": clock, "created_by": "RUN pip install", "comment": "buildkit"},
            {"created_by": "no time"},
        ],
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }


def test_config_times_after_the_epoch_become_the_epoch() -> None:
    one = normalise_config(config("2026-12-03T14:00:00.123456789Z", ["sha256:a"]), ["x"], EPOCH)
    two = normalise_config(config("2026-12-04T09:30:01.5+01:00", ["sha256:b"]), ["x"], EPOCH)
    assert one == two
    written = json.loads(one)
    assert written["created"] == rfc3339(EPOCH) == "2023-11-14T22:13:20Z"
    assert [item.get("created") for item in written["history"]] == [
        "2020-01-01T00:00:00Z",
        rfc3339(EPOCH),
        None,
    ]
    assert written["rootfs"] == {"type": "layers", "diff_ids": ["x"]}
    assert list(written) == list(config("", []))  # the engine's key order


def saved_image(tmp_path: Path, clock: float) -> Path:
    """An archive as ``docker save`` writes it, of a base layer and a layer of the build."""
    base, built = layer(1_000_000_000, extra_pax=False), layer(clock)
    ids = [f"sha256:{hashlib.sha256(data).hexdigest()}" for data in (base, built)]
    path = tmp_path / f"saved-{clock}.tar"
    files = {
        "base/layer.tar": base,
        "built/layer.tar": built,
        "cfg.json": json.dumps(config(rfc3339(int(clock)), ids)).encode(),
        "manifest.json": json.dumps(
            [{"Config": "cfg.json", "RepoTags": ["x:1"], "Layers": list(files_order)}]
        ).encode(),
    }
    with tarfile.open(path, "w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


files_order = ("base/layer.tar", "built/layer.tar")


def loaded(tmp_path: Path, clock: float, keep: frozenset[str]) -> dict[str, bytes]:
    scratch = tmp_path / f"scratch-{clock}"
    scratch.mkdir()
    out = io.BytesIO()
    write_archive(normalise_saved(saved_image(tmp_path, clock), keep, EPOCH, scratch), out)
    assert not list(scratch.iterdir()), "each file removed once written"
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as archive:
        return {
            m.name: archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in archive.getmembers()
        }


def test_a_saved_image_becomes_one_archive_whatever_its_clock(tmp_path: Path) -> None:
    base_id = f"sha256:{hashlib.sha256(layer(1_000_000_000, extra_pax=False)).hexdigest()}"
    one = loaded(tmp_path, EPOCH + 10, frozenset({base_id}))
    two = loaded(tmp_path, EPOCH + 99999, frozenset({base_id}))
    assert one == two
    manifest = json.loads(one["manifest.json"])[0]
    assert manifest["RepoTags"] is None, "tags are moved by tagging.py, to the new id"
    config_bytes = one[manifest["Config"]]
    assert manifest["Config"] == f"{hashlib.sha256(config_bytes).hexdigest()}.json"
    diff_ids = json.loads(config_bytes)["rootfs"]["diff_ids"]
    assert diff_ids[0] == base_id, "the base's layer is kept as it is"
    assert manifest["Layers"][0] not in one, "named, not sent: the engine holds it"
    for name, diff_id in zip(manifest["Layers"][1:], diff_ids[1:], strict=True):
        assert f"sha256:{hashlib.sha256(one[name]).hexdigest()}" == diff_id


def test_a_sparse_file_takes_no_disk_while_its_layer_is_rewritten(tmp_path: Path) -> None:
    """Issue 29, item 14: a 2 GiB sparse file became 4.4 GB of TMPDIR under --reproducible."""
    import io
    import tarfile

    from poetry_docker_plugin.pipeline.reproducible_archive import normalise_layer

    source = tmp_path / "layer.tar"
    size = 32 * 1024 * 1024
    with tarfile.open(source, "w", format=tarfile.PAX_FORMAT) as archive:
        entry = tarfile.TarInfo("data/sparse.bin")
        entry.size = size
        archive.addfile(entry, io.BufferedReader(io.FileIO("/dev/zero")))
        small = tarfile.TarInfo("data/small.txt")
        small.size = 3
        archive.addfile(small, io.BytesIO(b"abc"))
    target = tmp_path / "rewritten.tar"
    with source.open("rb") as reading, target.open("wb") as writing:
        digest = normalise_layer(reading, writing, EPOCH)
    assert target.stat().st_size > size
    assert target.stat().st_blocks * 512 < 1024 * 1024, "the zeros are holes"
    assert digest == f"sha256:{hashlib.sha256(target.read_bytes()).hexdigest()}"
    with tarfile.open(target) as archive:
        names = archive.getnames()
        member = archive.extractfile("data/small.txt")
        assert member is not None and member.read() == b"abc"
    assert names == ["data/sparse.bin", "data/small.txt"]


def test_the_epoch_is_the_variable_then_the_last_commit_then_1980(tmp_path: Path) -> None:
    assert source_epoch(tmp_path, {"SOURCE_DATE_EPOCH": "1234567890"}).seconds == 1234567890
    assert source_epoch(tmp_path, {}).seconds == ZIP_EPOCH
    assert source_epoch(tmp_path, {"SOURCE_DATE_EPOCH": "yesterday"}).seconds == ZIP_EPOCH
    git = ["git", "-C", str(tmp_path), "-c", "user.name=a", "-c", "user.email=a@b"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "poetry.lock").write_text("")
    subprocess.run([*git, "add", "."], check=True)
    environment = {"GIT_COMMITTER_DATE": "@1600000000 +0000", "PATH": "/usr/bin:/bin"}
    subprocess.run([*git, "commit", "-qm", "x"], check=True, env=environment)
    (tmp_path / "poetry.lock").write_text("edited, not committed")
    epoch = source_epoch(tmp_path, {})
    assert (epoch.seconds, epoch.source) == (1600000000, "the last git commit")
    assert source_epoch(tmp_path, {"SOURCE_DATE_EPOCH": "7"}).seconds == 7


@pytest.mark.parametrize("manager", ["venv", "conda"])
def test_reproducible_steps_write_no_clock(manager: str) -> None:
    apt = ("libgomp1",)
    plain = rendered("flat-script", env_manager=manager, apt_packages=apt).dockerfile
    assert "SOURCE_DATE_EPOCH" not in plain, "nothing changes unless asked for"
    dockerfile = rendered(
        "flat-script", env_manager=manager, apt_packages=apt, reproducible=True
    ).dockerfile
    runs = [step for step in dockerfile.split("\nRUN ")[1:] if " -m pip " in step]
    assert runs and all("SOURCE_DATE_EPOCH=315532800 " in step for step in runs)
    assert "/var/log/dpkg.log" in dockerfile and "/var/log/apt/*.log" in dockerfile
    if manager == "venv":
        assert "RUN SOURCE_DATE_EPOCH=315532800 PYTHONDONTWRITEBYTECODE=1 python3 -m venv" in (
            dockerfile
        )
    else:
        assert "conda-meta/history" in dockerfile
        create = dockerfile.split(" create ")[0].rsplit("\n", 1)[-1]
        assert "SOURCE_DATE_EPOCH=315532800" in create
