"""The dev containers an older development image left behind, through the fake engine: the
stopped ones removed, the running ones named, those of other folders, configurations and of
the current image untouched."""

from __future__ import annotations

from pathlib import Path

from poetry_docker_plugin.devcontainer.containers import (
    CONFIG_LABEL,
    FOLDER_LABEL,
    Retired,
    retire_old_containers,
)
from tests.unit.fake_engine import FakeContainer, FakeEngine, image_id

FOLDER = Path("/work/app")
CONFIG = FOLDER / ".devcontainer/devcontainer.json"
OURS = {FOLDER_LABEL: str(FOLDER), CONFIG_LABEL: str(CONFIG)}


def engine_with(*containers: FakeContainer) -> FakeEngine:
    engine = FakeEngine()
    engine.add("app:dev", "new development image")
    engine.existing.update({container.id: container for container in containers})
    return engine


def test_stopped_containers_of_an_older_image_are_removed_running_ones_named() -> None:
    old, new = image_id("old development image"), image_id("new development image")
    engine = engine_with(
        FakeContainer("stopped-old", old, OURS),
        FakeContainer("running-old", old, OURS, running=True),
        FakeContainer("stopped-current", new, OURS),
        FakeContainer("other-folder", old, {**OURS, FOLDER_LABEL: "/work/other"}),
        FakeContainer("other-config", old, {**OURS, CONFIG_LABEL: str(FOLDER / "x.json")}),
        FakeContainer("unlabelled", old),
    )
    retired = retire_old_containers(engine, "app:dev", FOLDER, CONFIG)
    assert retired == Retired(removed=("stopped-old",), running=("running-old",))
    left = {"running-old", "stopped-current", "other-folder", "other-config", "unlabelled"}
    assert set(engine.existing) == left


def test_nothing_is_removed_when_the_image_is_missing() -> None:
    engine = engine_with(FakeContainer("stopped-old", image_id("old"), OURS))
    assert retire_old_containers(engine, "app:other", FOLDER, CONFIG) == Retired()
    assert "stopped-old" in engine.existing
    assert engine.count("rm") == 0
