"""Engine: what the plugin reads from base images, through the real engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from poetry_docker_plugin.engine.refs import ImageReference
from poetry_docker_plugin.engine.remote import current_context, remote_host
from poetry_docker_plugin.pipeline.publish import push_failure

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("host", "remote"),
    [
        ("unix:///var/run/docker.sock", False),
        ("unix:///tmp/other-engine/docker.sock", False),  # another engine, this machine
        ("npipe:////./pipe/docker_engine", False),
        ("", False),
        (None, False),
        ("tcp://192.0.2.10:2376", True),
        ("tcp://127.0.0.1:2375", True),  # maybe a tunnel to another machine
        ("ssh://deploy@build-host", True),
        ("SSH://deploy@build-host:2222", True),
        ("https://engine.example.org", True),
    ],
)
def test_which_engine_hosts_are_remote(host: str | None, remote: bool) -> None:
    assert remote_host(host) == (host if remote else None)


def test_the_current_context_comes_from_the_client_config(tmp_path: Path) -> None:
    assert current_context(tmp_path) is None, "no config.json: the default context"
    (tmp_path / "config.json").write_text('{"auths": {}}')
    assert current_context(tmp_path) is None
    (tmp_path / "config.json").write_text('{"currentContext": "build-farm"}')
    assert current_context(tmp_path) == "build-farm"
    (tmp_path / "config.json").write_text("not json")
    assert current_context(tmp_path) is None


@pytest.mark.parametrize(
    ("reference", "repository", "registry"),
    [
        ("app:1.0", "app", None),
        ("team/app:1.0", "team/app", None),
        ("127.0.0.1:5000/app:1.0", "127.0.0.1:5000/app", "127.0.0.1:5000"),
        ("registry.example.org/team/app", "registry.example.org/team/app", "registry.example.org"),
        ("localhost/app:latest", "localhost/app", "localhost"),
        ("host:5000/app@sha256:" + "a" * 64, "host:5000/app", "host:5000"),
    ],
)
def test_repository_and_registry_of_a_reference(
    reference: str, repository: str, registry: str | None
) -> None:
    parsed = ImageReference.parse(reference)
    assert parsed.repository == repository
    assert parsed.registry == registry


def test_a_push_failure_says_what_to_do() -> None:
    hub = push_failure("app:1.0", "denied: requested access to the resource is denied")
    assert hub.startswith("Pushing app:1.0 failed: denied")
    assert "Docker Hub" in hub and "docker login" in hub
    down = push_failure("127.0.0.1:5000/app:1.0", "dial tcp 127.0.0.1:5000: connection refused")
    assert "Docker Hub" not in down and "registry is running" in down


def test_the_engine_says_its_platform_and_its_version_in_one_answer() -> None:
    from poetry_docker_plugin.engine.native_platform import platform_answered, version_answered
    from poetry_docker_plugin.platforms import Platform

    def docker() -> str:
        return "linux/arm64 24.0.7"

    def podman() -> str:  # podman's info: no version
        return "linux/amd64"

    assert platform_answered(docker, required=True) == Platform("linux", "arm64")
    assert version_answered(docker) == "24.0.7"
    assert platform_answered(podman, required=True) == Platform("linux", "amd64")
    assert version_answered(podman) == "" == version_answered(None)
