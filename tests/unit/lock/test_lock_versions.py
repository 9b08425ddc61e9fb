"""Lock files written by Poetry 1.x (lock-version 1.1 and 2.0), read by Poetry 2's API.

The fixtures are ``[tool.poetry]``-style projects whose ``poetry.lock`` the old Poetry wrote:

* ``lock-1.1``: Poetry 1.1.15 (on CPython 3.9), ``[tool.poetry.dev-dependencies]``; file
  hashes live under ``[metadata.files]``, packages carry a ``category``.
* ``lock-2.0``: Poetry 1.8.5, ``[tool.poetry.group.dev.dependencies]``; file hashes live
  beside each package.

Both were locked against a temporary legacy source pointing at pip's default index (PyPI's
per-version JSON API is not served where they were made); that source was then removed from
``pyproject.toml``, the ``[package.source]`` blocks of type legacy were removed from the lock,
and ``content-hash`` was rewritten with the hash the *same* old Poetry computes for the final
``pyproject.toml`` (``Factory().create_poetry(path).locker._get_content_hash()``). Poetry 2
computes the same hash for such projects, so it takes the locks as fresh. Locks older than
2.1 carry no groups or markers per package, so the plugin walks them with
poetry-plugin-export's ``get_project_dependency_packages``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import tomllib
from poetry.factory import Factory

from poetry_docker_plugin.lock.read import check_lock, read_lock
from tests.conftest import (
    FIXTURES,
    OLD_LOCK_DEV,
    OLD_LOCK_MAIN,
    OLD_LOCKS,
    OldLock,
    copy_fixture,
    locked_versions,
    poetry_in_process,
)

if TYPE_CHECKING:
    from pathlib import Path


def lock_toml(fixture: OldLock) -> dict[str, object]:
    return tomllib.loads((FIXTURES / fixture.directory / "poetry.lock").read_text())


def lock_hashes(fixture: OldLock) -> dict[str, set[str]]:
    """The file hashes of every locked package, wherever this lock version keeps them."""
    text = (FIXTURES / fixture.directory / "poetry.lock").read_text()
    lock = tomllib.loads(text)
    if fixture.lock_version == "1.1":
        files = lock["metadata"]["files"]
        return {name: {f["hash"] for f in entries} for name, entries in files.items()}
    return {p["name"]: {f["hash"] for f in p["files"]} for p in lock["package"]}


def build(project: Path, base_image: str, tag: str, *options: str) -> None:
    result = poetry_in_process(
        project, "docker", "build", "--base-image", base_image, "--tag", tag, *options
    )
    assert result.returncode == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == tag, result.output


@pytest.mark.parametrize("fixture", OLD_LOCKS)
def test_the_lock_is_the_old_poetrys_and_fresh(fixture: OldLock) -> None:
    path = FIXTURES / fixture.directory
    lock = lock_toml(fixture)
    metadata = lock["metadata"]
    assert isinstance(metadata, dict)
    assert metadata["lock-version"] == fixture.lock_version
    assert (path / "poetry.lock").read_text().splitlines()[0] == fixture.written_by
    packages = lock["package"]
    assert isinstance(packages, list)
    assert sorted(p["name"] for p in packages) == sorted((*OLD_LOCK_MAIN, *OLD_LOCK_DEV))
    assert not [p["name"] for p in packages if "source" in p], "an ordinary default-PyPI lock"
    if fixture.lock_version == "1.1":
        assert "files" in metadata
        assert {p["name"]: p["category"] for p in packages} == {
            "attrs": "main",
            "six": "main",
            "iniconfig": "dev",
        }
    else:
        assert "files" not in metadata
        assert all(p["files"] for p in packages)

    poetry = Factory().create_poetry(path)
    assert poetry.locker.is_fresh()
    assert not poetry.locker.is_locked_groups_and_markers(), "walked by the pre-2.1 walker"
    check_lock(poetry)  # the plugin's own check: no error
    result = poetry_in_process(path, "check", "--lock")
    if result.returncode != 0:
        # Poetry 2.0 fails `check` on warnings too (the [tool.poetry] metadata of 1.x
        # projects); 2.1 and later only with --strict. No line may be about the lock.
        lines = [line for line in result.output.splitlines() if line.strip()]
        warnings = ("Warning:", "If you want", 'The "poetry.dev-dependencies" section')
        assert all(line.startswith(warnings) for line in lines), result.output


@pytest.mark.parametrize("fixture", OLD_LOCKS)
def test_exported_requirements_are_pinned_and_hashed(fixture: OldLock) -> None:
    path = FIXTURES / fixture.directory
    poetry = Factory().create_poetry(path)
    versions = locked_versions(path)
    hashes = lock_hashes(fixture)

    main = read_lock(poetry, ["main"], []).requirements
    assert [r.name for r in main] == list(OLD_LOCK_MAIN), "the dev group is not exported by default"
    for requirement in main:
        assert requirement.kind == "index"
        assert requirement.source_url == ""
        assert requirement.version == versions[requirement.name][0]
        assert requirement.hashes, requirement
        assert all(h.startswith("sha256:") for h in requirement.hashes)
        assert set(requirement.hashes) == hashes[requirement.name]
        line = requirement.line()
        assert line.startswith(f"{requirement.name}=={requirement.version} ; "), line
        assert line.count("--hash=sha256:") == len(requirement.hashes) >= 2, line

    with_dev = read_lock(poetry, ["main", "dev"], []).requirements
    assert [r.name for r in with_dev] == sorted((*OLD_LOCK_MAIN, *OLD_LOCK_DEV))
    dev = next(r for r in with_dev if r.name == "iniconfig")
    assert dev.version == versions["iniconfig"][0]
    assert set(dev.hashes) == hashes["iniconfig"]


@pytest.mark.parametrize("fixture", OLD_LOCKS)
def test_print_renders_a_dockerfile(fixture: OldLock, tmp_path: Path) -> None:
    project = copy_fixture(fixture.directory, tmp_path)
    result = poetry_in_process(project, "docker", "build", "--print")
    assert result.returncode == 0, result.output
    assert result.stdout.startswith("# Generated by poetry-docker-plugin"), result.output
    assert f'CMD ["python", "-m", "{fixture.module}"]' in result.stdout
