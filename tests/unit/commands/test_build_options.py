"""``poetry docker build`` through the real Poetry command line, against a real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import (
    Base,
    configure,
    copy_fixture,
    poetry_in_process,
)


def build(project: Path, base: Base, tag: str, *options: str) -> None:
    """Builds ``project`` on ``base`` (its settings written into the project) as ``tag``."""
    configure(project, **base.settings)
    result = poetry_in_process(project, "docker", "build", "--tag", tag, *options)
    assert result.returncode == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == tag, "the image reference is printed last"


def test_print_is_deterministic_and_builds_nothing(tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)
    first = poetry_in_process(
        project, "docker", "build", "--print", env={"POETRY_DOCKER_ENGINE": "/nonexistent"}
    )
    second = poetry_in_process(project, "docker", "build", "--print")
    assert first.returncode == 0, first.output
    assert first.stdout == second.stdout
    dockerfile, rest = first.stdout.split("# ---- entrypoint.sh ----\n")
    entrypoint, activate = rest.split("# ---- activate.sh ----\n")
    assert dockerfile.count("\nFROM condaforge/miniforge3:") == 1
    assert "--prefix /opt/conda/envs/hello-app" in dockerfile  # Miniforge's layout, not probed
    assert entrypoint.startswith("#!/bin/sh\n")
    assert 'exec "$@"' in entrypoint
    assert "/opt/conda/envs/hello-app/etc/conda/activate.d" in activate


def test_engine_missing_or_not_running(tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)
    missing = poetry_in_process(
        project, "docker", "build", env={"POETRY_DOCKER_ENGINE": "no-such-docker"}
    )
    assert missing.returncode == 1
    assert "'no-such-docker' was not found on PATH" in missing.stderr
    stopped = poetry_in_process(
        project, "docker", "build", env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    )
    assert stopped.returncode == 1
    assert "The Docker engine is not reachable" in stopped.stderr
    assert "Start the Docker daemon" in stopped.stderr


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("env", {"A": "line one\nRUN touch /tmp/pwned"}),
        ("labels", {"a": "x\ny"}),
        ("apt_packages", ["curl && touch /tmp/pwned"]),
        ("conda_packages", ["numpy; touch /tmp/pwned"]),
        ("image", "app\nRUN x"),
        ("command", "echo '\n'"),
        ("workdir", "/app\nRUN x"),
        ("base_image", "debian\nRUN touch /tmp/pwned"),
    ],
)
def test_values_that_could_inject_are_refused(tmp_path: Path, key: str, value: object) -> None:
    project = copy_fixture("flat-script", tmp_path)
    configure(project, **{key: value})
    result = poetry_in_process(project, "docker", "build", "--print")
    assert result.returncode == 1
    assert f"`{key.replace('_', '-')}`" in result.stderr
    assert "FROM" not in result.stdout


def test_errors_show_even_with_quiet(tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)
    configure(project, workdir="/etc")
    result = poetry_in_process(project, "docker", "build", "-q")
    assert result.returncode == 1
    assert "Invalid value for `workdir`" in result.stderr


def test_a_base_image_not_looked_at_says_so(tmp_path: Path) -> None:
    """--print does not pull: a venv base that is not here has a Python nobody asked."""
    project = copy_fixture("flat-script", tmp_path)
    result = poetry_in_process(
        project,
        "docker",
        "build",
        "--print",
        "--base-image",
        "in-house/base:7",
        env={"POETRY_DOCKER_ENGINE": "/nonexistent/docker"},
    )
    assert result.returncode == 1, result.output
    assert "in-house/base:7" in result.stderr and "was not looked at" in result.stderr
    assert "--python" in result.stderr and "Traceback" not in result.output
    printed = poetry_in_process(
        project,
        "docker",
        "build",
        "--print",
        "--base-image",
        "in-house/base:7",
        "--python",
        "3.12",
        env={"POETRY_DOCKER_ENGINE": "/nonexistent/docker"},
    )
    assert printed.returncode == 0 and "FROM in-house/base:7" in printed.stdout, printed.output


def test_the_platforms_setting_is_what_push_publishes(tmp_path: Path) -> None:
    """Read with --push only: two platforms with --push make several images (so --sbom is
    refused before anything is built); without --push the setting asks nothing of the engine."""
    project = copy_fixture("flat-script", tmp_path)
    configure(project, platforms=["linux/amd64", "linux/arm64"])
    nowhere = {"POETRY_DOCKER_ENGINE": "/nonexistent"}
    pushed = poetry_in_process(
        project, "docker", "build", "--push", "--sbom", "s.json", env=nowhere
    )
    assert pushed.returncode == 1 and "several platforms are built" in pushed.stderr
    printed = poetry_in_process(project, "docker", "build", "--print", env=nowhere)
    assert printed.returncode == 0, printed.output
    configure(project, platforms=["linux/arm64", "windows/amd64"])
    refused = poetry_in_process(project, "docker", "build", "--print", env=nowhere)
    assert refused.returncode == 1 and "`platforms`" in refused.stderr, refused.output
    assert "names the OS 'windows'" in refused.stderr
