"""Locks written by Poetry 1.x (lock-version 1.1 and 2.0) built into images and run (the
fixtures are described in tests/unit/lock/test_lock_versions.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.conftest import (
    OLD_LOCK_DEV,
    OLD_LOCK_MAIN,
    OLD_LOCKS,
    OldLock,
    copy_fixture,
    docker,
    locked,
    pip_freeze,
    run_poetry,
)

if TYPE_CHECKING:
    from pathlib import Path


def build(project: Path, base_image: str, tag: str, *options: str) -> None:
    result = run_poetry(
        project, "docker", "build", "--base-image", base_image, "--tag", tag, *options
    )
    assert result.returncode == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == tag, result.output


@pytest.mark.parametrize("fixture", OLD_LOCKS)
def test_image_holds_the_locked_versions(
    fixture: OldLock, tmp_path: Path, base_image: str, image_tag: str
) -> None:
    project = copy_fixture(fixture.directory, tmp_path)
    main = locked(project, *OLD_LOCK_MAIN)

    build(project, base_image, image_tag)
    assert pip_freeze(image_tag) == {**main, fixture.project: fixture.version}
    output = docker("run", "--rm", image_tag).stdout
    assert output.splitlines() == [
        f"six {main['six']}",
        f"attrs {main['attrs']}",
        "iniconfig absent",
    ]

    dev_tag = image_tag.replace(":test", ":with-dev")
    build(project, base_image, dev_tag, "--with", "dev")
    dev = locked(project, *OLD_LOCK_DEV)
    assert pip_freeze(dev_tag) == {**main, **dev, fixture.project: fixture.version}
    assert docker("run", "--rm", dev_tag).stdout.splitlines()[-1] == (
        f"iniconfig {dev['iniconfig']}"
    )
