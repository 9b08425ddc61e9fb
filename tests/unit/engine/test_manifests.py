"""The registries that the manifest commands must reach without TLS, as the engine does."""

from __future__ import annotations

import pytest

from poetry_docker_plugin.engine.manifests import is_loopback_registry


@pytest.mark.parametrize(
    ("reference", "loopback"),
    [
        ("127.0.0.1:5000/app:1.0", True),
        ("localhost:5000/team/app:1.0", True),
        ("127.10.0.3/app", True),
        ("registry.example.com/app:1.0", False),
        ("app:1.0", False),  # Docker Hub
        ("127.0.0.1.example.com/app", False),
    ],
)
def test_only_registries_of_this_machine_go_without_tls(reference: str, loopback: bool) -> None:
    assert is_loopback_registry(reference) is loopback
