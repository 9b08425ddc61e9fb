"""The Poetry-free answer to "is the image current?" (``current_known_image``), through the
fake engine: the record of the last call, the files it was made from unchanged, and the
engine's images as they were; anything else answers nothing (the project is then read)."""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING

import pytest

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.freshness.current import KnownImage, current_known_image, shortcut_of
from poetry_docker_plugin.names import FINGERPRINT_LABEL
from tests.unit.fake_engine import FakeEngine

if TYPE_CHECKING:
    from pathlib import Path

KEY = "options-key"


def recorded(tmp_path: Path) -> tuple[Path, Path, KnownImage, FakeEngine]:
    """A project whose image the last call recorded as current, and the engine holding it."""
    root, cache = tmp_path / "app", tmp_path / "cache"
    root.mkdir()
    files = [root / "pyproject.toml", root / "poetry.lock"]
    for path in files:
        path.write_text(f"# {path.name}\n")
    then = time.time() - 60  # older than the racy window: stamps that can be trusted
    for path in (*files, root):
        os.utime(path, (then, then))
    engine = FakeEngine()
    base = engine.add("debian:bookworm", "base").id
    engine.add("app:1.0", "image", labels={FINGERPRINT_LABEL: "digest-1"})
    known = KnownImage(("app:1.0",), "digest-1", (("debian:bookworm", base),), "app", ())
    shortcut_of(cache, root).record(KEY, known, [root], files)
    return root, cache, known, engine


def test_an_unchanged_project_with_its_image_is_answered_from_the_record(
    tmp_path: Path,
) -> None:
    root, cache, known, engine = recorded(tmp_path)
    assert current_known_image(cache, root, KEY, lambda: engine) == known
    assert current_known_image(cache, root, "other options", lambda: engine) is None


@pytest.mark.parametrize("change", ["image rebuilt", "base moved", "lock edited"])
def test_a_change_answers_nothing(change: str, tmp_path: Path) -> None:
    root, cache, _, engine = recorded(tmp_path)
    if change == "image rebuilt":
        engine.add("app:1.0", "another image", labels={FINGERPRINT_LABEL: "digest-2"})
    elif change == "base moved":
        engine.add("debian:bookworm", "a newer base")
    else:
        (root / "poetry.lock").write_text("# edited\n")
    assert current_known_image(cache, root, KEY, lambda: engine) is None


def test_a_poetry_toml_which_may_move_the_cache_asks_poetry(tmp_path: Path) -> None:
    root, cache, _, engine = recorded(tmp_path)
    then = root.stat().st_mtime_ns
    (root / "poetry.toml").write_text("[cache]\n")
    os.utime(root, ns=(then, then))  # the folder's time as it was: the record alone answers
    assert current_known_image(cache, root, KEY, lambda: engine) is None
    assert engine.calls == [], "the engine is not asked"


def test_an_engine_that_cannot_be_found_or_asked_answers_nothing(tmp_path: Path) -> None:
    root, cache, _, engine = recorded(tmp_path)

    def missing() -> FakeEngine:
        raise DockerPluginError("The container engine command 'docker' was not found")

    assert current_known_image(cache, root, KEY, missing) is None
    engine.fault("inspect", "fail")
    assert current_known_image(cache, root, KEY, lambda: engine) is None


@pytest.mark.parametrize(
    "damage",
    [
        {"tags": []},
        {"tags": "app:1.0"},
        {"ports": "8000"},
        {"ports": [8000]},
        {"bases": "debian:bookworm"},
        {"bases": [["debian:bookworm"]]},
        {"fingerprint": ""},
        {"project_name": None},
        {"emulation": 1},
    ],
)
def test_a_record_of_another_shape_answers_nothing(
    damage: dict[str, object], tmp_path: Path
) -> None:
    """A damaged record, or another version's, is not trusted: the project is read."""
    root, cache, _, engine = recorded(tmp_path)
    path = shortcut_of(cache, root).path
    records = json.loads(path.read_text())
    records[KEY]["image"].update(damage)
    path.write_text(json.dumps(records))
    assert current_known_image(cache, root, KEY, lambda: engine) is None
