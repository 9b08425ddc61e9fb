"""The locked wheels' sizes: asked of the index once per version, kept; an index that does not
answer is asked once, not once per package and call (a machine without PyPI waits once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from poetry_docker_plugin.lock import sizes
from poetry_docker_plugin.lock.model import LockedRequirement

if TYPE_CHECKING:
    from pathlib import Path


def requirement(name: str) -> LockedRequirement:
    wheel = f"{name}-1.0-py3-none-any.whl"
    return LockedRequirement(name, "1.0", "", ("sha256:" + "0" * 64,), (wheel,), ">=3.8")


LOCKED = [requirement(name) for name in ("alpha", "beta", "gamma")]


def test_sizes_are_asked_once_per_version_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def answer(r: LockedRequirement, index: str) -> dict[str, int]:
        asked.append(r.name)
        return {r.files[0]: 1000 * len(r.name)}

    monkeypatch.setattr(sizes, "_fetch", answer)
    cache = tmp_path / "sizes.json"
    found = sizes.locked_sizes(LOCKED, cache)
    assert found == {"alpha-1.0-py3-none-any.whl": 5000, "beta-1.0-py3-none-any.whl": 4000,
                     "gamma-1.0-py3-none-any.whl": 5000}  # fmt: skip
    assert sorted(asked) == ["alpha", "beta", "gamma"]
    assert sizes.locked_sizes(LOCKED, cache) == found
    assert len(asked) == 3, "kept: nothing asked again"


def test_an_index_that_does_not_answer_is_asked_once_then_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def unreachable(r: LockedRequirement, index: str) -> None:
        asked.append(r.name)

    monkeypatch.setattr(sizes, "_fetch", unreachable)
    cache = tmp_path / "sizes.json"
    assert sizes.locked_sizes(LOCKED, cache) == {}
    assert asked == ["alpha"], "one package asked, not every one"
    assert sizes.locked_sizes(LOCKED, cache) == {}
    assert asked == ["alpha"], "and no call asks again while the index is left alone"
    monkeypatch.setattr(sizes, "RETRY_AFTER_SECONDS", -1)
    sizes.locked_sizes(LOCKED, tmp_path / "fresh.json")
    sizes.locked_sizes(LOCKED, tmp_path / "fresh.json")
    assert asked == ["alpha"] * 3, "asked again once the time has passed"
