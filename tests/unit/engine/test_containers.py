"""The engine's calls about existing containers, through a fake client script: the command
lines they give the client, and what they make of its answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from poetry_docker_plugin.engine.containers import ContainerState
from tests.unit.fake_engine import fake_client

if TYPE_CHECKING:
    from pathlib import Path

OLD = "a" * 64
NEW = "b" * 64


def test_containers_are_found_by_every_label_with_their_image_and_state(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    engine = fake_client(
        tmp_path,
        f'*) echo "$*" >> {log};;\nesac\ncase "$1" in\n'
        "ps) echo c1; echo c2;;\n"
        f"inspect) echo 'c1 sha256:{OLD} false'; echo 'c2 {NEW} true';;",
    )
    found = engine.containers({"devcontainer.local_folder": "/w/my app", "x": "y"})
    # podman gives the image's id as bare hex: it is compared with docker's ``sha256:`` ids
    assert found == [
        ContainerState("c1", f"sha256:{OLD}", running=False),
        ContainerState("c2", f"sha256:{NEW}", running=True),
    ]
    calls = log.read_text().splitlines()
    assert calls == [
        "ps --all --quiet --no-trunc --filter label=devcontainer.local_folder=/w/my app "
        "--filter label=x=y",
        "inspect --format {{.Id}} {{.Image}} {{.State.Running}} c1 c2",
    ]


def test_no_container_or_an_engine_that_fails_finds_none(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    engine = fake_client(tmp_path, f'*) echo "$*" >> {log};;\nesac\ncase "$1" in\nps) exit 0;;')
    assert engine.containers({"a": "b"}) == []
    assert [line.split()[0] for line in log.read_text().splitlines()] == ["ps"]  # no inspect
    failing = fake_client(tmp_path, "ps) echo c1; echo 'Cannot connect' >&2; exit 1;;")
    assert failing.containers({"a": "b"}) == []


def test_a_container_removed_between_listing_and_inspecting_is_left_out(tmp_path: Path) -> None:
    engine = fake_client(
        tmp_path,
        "ps) echo c1; echo gone;;\n"
        f"inspect) echo 'c1 sha256:{OLD} false'; echo 'Error: No such object: gone' >&2; exit 1;;",
    )
    assert engine.containers({"a": "b"}) == [ContainerState("c1", f"sha256:{OLD}", False)]


def test_remove_container_says_whether_it_was_removed(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    engine = fake_client(
        tmp_path,
        f'*) echo "$*" >> {log};;\nesac\ncase "$1 $2" in\n'
        "'rm stopped') exit 0;;\n'rm running') echo 'cannot remove' >&2; exit 1;;",
    )
    assert engine.remove_container("stopped") is True
    assert engine.remove_container("running") is False
    assert log.read_text().splitlines() == ["rm stopped", "rm running"]
