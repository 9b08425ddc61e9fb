"""A multi-platform publish as ``build --push --platform A,B`` asks it (``publish``): the tags
(given, else the settings' or the project's), one builder per platform under per-platform
tags, every image built before the first push, the lists pushed last."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from poetry_docker_plugin.pipeline.publish import Published, publish
from poetry_docker_plugin.platforms import Platform
from poetry_docker_plugin.project.facts import ProjectFacts
from poetry_docker_plugin.project.settings import Settings
from tests.unit.fake_engine import FakeEngine

if TYPE_CHECKING:
    from poetry_docker_plugin.freshness.request import Prepared

AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")
PROJECT = ProjectFacts(pyproject_path=Path("/work/app/pyproject.toml"), name="app", version="1.0")


@dataclass
class StubBuilder:
    """One platform's builder: what it was asked, in order, in the shared ``log``."""

    engine: FakeEngine
    platform: Platform
    tags: tuple[str, ...]
    log: list[tuple[str, str]] = field(default_factory=list)

    def prepare(self) -> Prepared:
        self.log.append(("prepare", str(self.platform)))
        return self  # type: ignore[return-value]

    def ensure_image(self, prepared: Prepared, **options: Any) -> Prepared:
        self.log.append(("build" + ("" if not options["rebuild"] else " anew"), self.tags[0]))
        return prepared

    def push(self, prepared: Prepared) -> str:
        self.log.append(("push", self.tags[0]))
        return f"{self.tags[0]}@sha256:{'0' * 64}"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    """``docker manifest`` runs its own client process: answered by the fake engine."""
    from poetry_docker_plugin.engine import manifests

    engine = FakeEngine()

    def run(engine: FakeEngine, arguments: list[str], environment: object = None) -> str:
        engine._call(*arguments)
        return "sha256:" + "ab" * 32 if arguments[1] == "push" else ""

    monkeypatch.setattr(manifests, "_run", run)
    return engine


def publish_with(
    engine: FakeEngine, settings: Settings, tags: tuple[str, ...] = (), *, rebuild: bool = False
) -> tuple[Published, list[StubBuilder], list[tuple[str, str]]]:
    log: list[tuple[str, str]] = []
    builders: list[StubBuilder] = []

    def builder_for(platform: Platform, platform_tags: tuple[str, ...]) -> StubBuilder:
        builders.append(StubBuilder(engine, platform, platform_tags, log))
        return builders[-1]

    said: list[str] = []
    published = publish(
        PROJECT, settings, (AMD64, ARM64), tags, builder_for, said.append, rebuild=rebuild
    )
    return published, builders, log


def test_the_default_tags_each_pushed_as_a_list_of_per_platform_images(fake: FakeEngine) -> None:
    published, builders, log = publish_with(fake, Settings(image="reg.example:5000/app"))
    assert published.tags == ("reg.example:5000/app:1.0", "reg.example:5000/app:latest")
    assert published.reference == "reg.example:5000/app@sha256:" + "ab" * 32
    assert [b.tags for b in builders] == [
        ("reg.example:5000/app:1.0-amd64", "reg.example:5000/app:latest-amd64"),
        ("reg.example:5000/app:1.0-arm64", "reg.example:5000/app:latest-arm64"),
    ]
    assert [step for step, _ in log] == ["prepare"] * 2 + ["build"] * 2 + ["push"] * 2
    lists = [call[-1] for call in fake.calls if call[:2] == ("manifest", "push")]
    assert lists == list(published.tags), "each tag a list, after every platform's push"


def test_given_tags_replace_the_default_and_no_cache_rebuilds(fake: FakeEngine) -> None:
    published, builders, log = publish_with(
        fake, Settings(tags=("stable",)), ("reg.example/team/app:2",), rebuild=True
    )
    assert published.tags == ("reg.example/team/app:2",)
    assert [b.tags for b in builders] == [
        ("reg.example/team/app:2-amd64",),
        ("reg.example/team/app:2-arm64",),
    ]
    assert ("build anew", "reg.example/team/app:2-arm64") in log


def test_the_settings_tags_and_a_project_without_a_version(fake: FakeEngine) -> None:
    unversioned = ProjectFacts(pyproject_path=PROJECT.pyproject_path, name="app", version=None)
    log: list[tuple[str, str]] = []
    said: list[str] = []

    def builder_for(platform: Platform, tags: tuple[str, ...]) -> StubBuilder:
        return StubBuilder(fake, platform, tags, log)

    published = publish(unversioned, Settings(), (AMD64, ARM64), (), builder_for, said.append,
                        rebuild=False)  # fmt: skip
    assert published.tags == ("app:latest",)
    assert said[-1] == f"Pushed app:latest as app@sha256:{'ab' * 32}"
