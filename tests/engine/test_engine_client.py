"""Engine: what the plugin reads from base images, through the real engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from poetry_docker_plugin.engine.client import Engine
from poetry_docker_plugin.pipeline.base_probe import probe_base_image
from tests.conftest import DOCKER

if TYPE_CHECKING:
    from pathlib import Path

    from pytest import MonkeyPatch


@pytest.mark.parametrize("manager", ["venv", "conda", "runtime"])
def test_a_base_image_is_looked_at_once_and_cached(
    manager: str, base_image: str, conda_base_image: str, tmp_path: Path
) -> None:
    """Its id, its Python (whether its headers are there, its release and path) or conda
    layout, and its glibc (bookworm's 2.36 for both bases)."""
    reference = conda_base_image if manager == "conda" else base_image
    engine = Engine(DOCKER)
    cache = tmp_path / "bases.json"
    found = probe_base_image(engine, reference, manager, cache=cache)
    assert found.id and found.id.startswith("sha256:")
    assert found.glibc == "2.36" and found.glibc_minor == 36
    if manager == "venv":
        assert found.python == "3.11"
        assert found.python_headers is False, "Debian's python3 without python3.11-dev"
        # what a venv records, compared with the base's variant for another platform
        assert (found.python_release or "").startswith("3.11.")
        assert found.python_executable == "/usr/bin/python3"
    if manager == "conda":
        assert found.envs_dir == "/opt/conda/envs"
    assert found.platform == "linux/amd64"
    echoing = Engine(DOCKER, echo=True)
    assert probe_base_image(echoing, reference, manager, cache=cache) == found, (
        "answered from the cache"
    )


def test_the_manager_is_asked_of_the_image_not_read_from_its_name(
    base_image: str, conda_base_image: str
) -> None:
    """The conda base is named pdp-team/ds-base (no conda word): conda is found in it."""
    engine = Engine(DOCKER)
    conda = probe_base_image(engine, conda_base_image, "auto")
    assert (conda.manager, conda.envs_dir) == ("conda", "/opt/conda/envs")
    venv = probe_base_image(engine, base_image, "auto")
    assert (venv.manager, venv.python) == ("venv", "3.11")


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
