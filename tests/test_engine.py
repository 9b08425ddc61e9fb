"""Engine: what the plugin reads from base images, through the real engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from conftest import DOCKER

from poetry_docker_plugin.engine import Engine

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("manager", ["venv", "conda", "runtime"])
def test_a_base_image_is_looked_at_once_and_cached(
    manager: str, base_image: str, conda_base_image: str, tmp_path: Path
) -> None:
    """Its id, its Python or conda layout, and its glibc (bookworm's 2.36 for both bases)."""
    reference = conda_base_image if manager == "conda" else base_image
    engine = Engine(DOCKER)
    cache = tmp_path / "bases.json"
    found = engine.base_image(reference, manager, cache)
    assert found.id and found.id.startswith("sha256:")
    assert found.glibc == "2.36" and found.glibc_minor == 36
    if manager == "venv":
        assert found.python == "3.11"
    if manager == "conda":
        assert found.envs_dir == "/opt/conda/envs"
    echoing = Engine(DOCKER, echo=True)
    assert echoing.base_image(reference, manager, cache) == found, "answered from the cache"
