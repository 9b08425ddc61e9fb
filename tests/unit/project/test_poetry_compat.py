"""What differs between Poetry releases, seen through the real command line, without an engine.

These tests run under the newest Poetry (``.venv``) and, through
tests/install/test_poetry_versions.py, under the oldest one the plugin admits (2.0.0 with
poetry-plugin-export 1.9.0), where the first two failed before ``poetry_compat`` existed (as
did test_requirements.py's lock with bare hashes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.markers import Marker

from poetry_docker_plugin.project.poetry_compat import unsupported_poetry_message
from tests.conftest import REPO, Result, copy_fixture, poetry_in_process

# No engine is asked: the Python is given, so the base image is never probed.
OFFLINE = ("--python", "3.11", "--base-image", "nowhere/base:1", "--env-manager", "venv")


def printed_build(project: Path, *options: str) -> Result:
    return poetry_in_process(project, "docker", "build", "--print", *OFFLINE, *options)


def set_license(project: Path, value: str | None) -> None:
    """Sets or removes ``[project] license`` (the lock's content hash does not cover it)."""
    import tomlkit

    pyproject = project / "pyproject.toml"
    document = tomlkit.parse(pyproject.read_text())
    table = document["project"]
    assert isinstance(table, dict)
    table.pop("license", None)
    if value is not None:
        table["license"] = value
    pyproject.write_text(tomlkit.dumps(document))


@pytest.mark.parametrize(
    ("license", "label"),
    [(None, ""), ("MIT", "MIT"), ("MIT OR Apache-2.0", "MIT OR Apache-2.0")],
)
def test_the_license_label_on_every_poetry(tmp_path: Path, license: str | None, label: str) -> None:
    """Poetry 2.0.1 and 2.1.4 failed every command of a project without a license
    ('ProjectPackage' object has no attribute 'license_expression')."""
    project = copy_fixture("examples/sample-app", tmp_path)
    set_license(project, license)
    result = printed_build(project)
    assert result.returncode == 0, result.output
    assert f'"org.opencontainers.image.licenses"="{label}"' in result.stdout


def test_a_chosen_extra_is_installed_on_every_poetry(tmp_path: Path) -> None:
    """poetry-plugin-export 1.9 (the one Poetry 2.0 installs) leaves ``extra == "fast"`` in
    the markers of an extra's packages; pip evaluates that as false in a requirements file
    and would leave the extra out of the image."""
    output = tmp_path / "context"
    project = REPO / "tests" / "fixtures" / "groups-extras"
    result = poetry_in_process(
        project, "docker", "build", "--output", str(output), "--extras", "fast", *OFFLINE
    )
    assert result.returncode == 0, result.output
    lines = [
        line.rstrip(" \\")
        for name in ("requirements.txt", "requirements-compiled.txt")
        if (output / name).exists()
        for line in (output / name).read_text().splitlines()
    ]
    (markupsafe,) = [line for line in lines if line.startswith("markupsafe==")]
    marker = markupsafe.partition(";")[2]
    # What pip does with a requirements file's marker: no extra is set in its environment.
    environment = {"python_version": "3.11", "python_full_version": "3.11.7", "extra": ""}
    assert not marker.strip() or Marker(marker).evaluate(environment), markupsafe


@pytest.mark.parametrize(
    ("version", "refused"),
    [
        ("2.0.0", False),
        ("2.5.1", False),
        ("2.99.0", False),
        ("1.8.5", True),
        ("3.0.0", True),
        ("3.0.0a1", True),
        ("", True),
    ],
)
def test_the_supported_range_is_poetry_2(version: str, refused: bool) -> None:
    message = unsupported_poetry_message(version)
    assert (message is not None) == refused
    if message:
        assert ">=2.0,<3" in message and f"Poetry {version}" in message
        assert "\n" not in message, "one line"


def test_the_refusal_names_the_declared_range() -> None:
    """The range in the refusal is the one pyproject.toml declares for `poetry`."""
    from poetry_docker_plugin.project.poetry_compat import SUPPORTED_RANGE

    pyproject = (REPO / "pyproject.toml").read_text()
    declared = re.search(r'"poetry \(([^)]*)\)"', pyproject)
    assert declared and declared[1] == SUPPORTED_RANGE
