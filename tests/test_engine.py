"""Engine: what the plugin reads from base images, through the real engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from conftest import DOCKER

from poetry_docker_plugin.builder import push_failure
from poetry_docker_plugin.engine.client import Engine
from poetry_docker_plugin.engine.probe import probe_base_image
from poetry_docker_plugin.engine.refs import registry_of, repository_of
from poetry_docker_plugin.engine.remote import current_context, remote_host

if TYPE_CHECKING:
    from pathlib import Path

    from pytest import MonkeyPatch


@pytest.mark.docker
@pytest.mark.parametrize("manager", ["venv", "conda", "runtime"])
def test_a_base_image_is_looked_at_once_and_cached(
    manager: str, base_image: str, conda_base_image: str, tmp_path: Path
) -> None:
    """Its id, its Python or conda layout, and its glibc (bookworm's 2.36 for both bases)."""
    reference = conda_base_image if manager == "conda" else base_image
    engine = Engine(DOCKER)
    cache = tmp_path / "bases.json"
    found = probe_base_image(engine, reference, manager, cache)
    assert found.id and found.id.startswith("sha256:")
    assert found.glibc == "2.36" and found.glibc_minor == 36
    if manager == "venv":
        assert found.python == "3.11"
    if manager == "conda":
        assert found.envs_dir == "/opt/conda/envs"
    echoing = Engine(DOCKER, echo=True)
    assert probe_base_image(echoing, reference, manager, cache) == found, "answered from the cache"


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


@pytest.mark.docker
def test_the_engine_says_where_it_runs(
    tmp_path: Path, monkeypatch: MonkeyPatch, engine: str
) -> None:
    """DOCKER_HOST first, then the context DOCKER_CONTEXT or config.json chooses, read
    through the client as it would read it."""
    import subprocess

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    client = Engine(DOCKER)
    assert client.remote_host() is None
    for name, host in (("far", "ssh://deploy@build-host"), ("near", "unix:///tmp/x.sock")):
        subprocess.run(
            [DOCKER, "context", "create", name, "--docker", f"host={host}"],
            check=True,
            capture_output=True,
            env={"DOCKER_CONFIG": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )
    monkeypatch.setenv("DOCKER_CONTEXT", "far")
    assert client.remote_host() == "ssh://deploy@build-host"
    monkeypatch.setenv("DOCKER_CONTEXT", "near")
    assert client.remote_host() is None
    monkeypatch.delenv("DOCKER_CONTEXT")
    (tmp_path / "config.json").write_text('{"currentContext": "far"}')
    assert client.remote_host() == "ssh://deploy@build-host"
    monkeypatch.setenv("DOCKER_HOST", "tcp://192.0.2.10:2376")
    assert client.remote_host() == "tcp://192.0.2.10:2376", "DOCKER_HOST wins over contexts"
    monkeypatch.setenv("DOCKER_HOST", "unix:///var/run/docker.sock")
    assert client.remote_host() is None


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
    assert repository_of(reference) == repository
    assert registry_of(reference) == registry


def test_a_push_failure_says_what_to_do() -> None:
    hub = push_failure("app:1.0", "denied: requested access to the resource is denied")
    assert hub.startswith("Pushing app:1.0 failed: denied")
    assert "Docker Hub" in hub and "docker login" in hub
    down = push_failure("127.0.0.1:5000/app:1.0", "dial tcp 127.0.0.1:5000: connection refused")
    assert "Docker Hub" not in down and "registry is running" in down
