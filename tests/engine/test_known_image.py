"""A call that changes nothing answers from the record the last one left, without loading the
project through Poetry; any change of an input, option or image goes the whole way again."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.conftest import LoggingEngine, configure, copy_fixture, docker, run_poetry

# What the whole way prints with -v, from the plan: the record's way has no plan to speak of.
PLANNED = "environment at /opt/venv"


def settle(project: Path, age: float = 3600) -> None:
    """Every file and folder of the project as if last changed ``age`` seconds ago: records
    are only kept for inputs older than the clock's resolution can tell apart."""
    moment = time.time() - age
    for path in [project, *project.rglob("*")]:
        os.utime(path, (moment, moment))


def build(project: Path, engine: LoggingEngine, *options: str) -> str:
    result = run_poetry(
        project, "-v", "docker", "build", *options, env={"POETRY_DOCKER_ENGINE": str(engine.path)}
    )
    assert result.returncode == 0, result.output
    return result.stdout.strip() + "\n" + result.stderr


def test_a_no_change_call_takes_the_record_and_every_change_the_whole_way(
    tmp_path: Path, base_image: str, project_image: str, logging_engine: LoggingEngine
) -> None:
    project = copy_fixture("flat-script", tmp_path)
    configure(project, image=project_image, base_image=base_image)
    settle(project)
    assert PLANNED in build(project, logging_engine)
    assert len(logging_engine.builds()) == 1

    again = build(project, logging_engine)
    assert again.startswith(f"{project_image}:0.3.1\n"), "the reference on stdout, as always"
    assert "is up to date" in again and PLANNED not in again
    assert len(logging_engine.builds()) == 1
    ran = run_poetry(
        project, "-v", "docker", "run", env={"POETRY_DOCKER_ENGINE": str(logging_engine.path)}
    )
    assert ran.returncode == 0 and "hello from hello-app" in ran.stdout, ran.output
    assert PLANNED not in ran.stderr

    # An edit that keeps the size, with an old time of its own: the stamps differ.
    module = project / "hello_app" / "cli.py"
    module.write_text(module.read_text().replace("hello from", "HELLO FROM"))
    settle(module, age=1800)
    assert PLANNED in build(project, logging_engine)
    assert len(logging_engine.builds()) == 2
    assert PLANNED not in build(project, logging_engine), "recorded again after the build"

    # A new module: the folder's listing changed.
    (project / "hello_app" / "extra.py").write_text("X = 1\n")
    settle(project, age=1200)
    assert PLANNED in build(project, logging_engine)
    assert len(logging_engine.builds()) == 3

    # Other options make another image: the record of these does not answer for them.
    assert PLANNED in build(project, logging_engine, "--build-arg", "FLAVOUR=1")
    assert PLANNED in build(project, logging_engine)  # its own record was kept aside

    # A tag removed behind the plugin's back: the engine says so, and the image is rebuilt.
    docker("image", "rm", f"{project_image}:latest")
    assert PLANNED in build(project, logging_engine)
    assert docker("image", "inspect", f"{project_image}:latest").returncode == 0

    # The lock changed (its content, with an old time): the record no longer answers.
    lock = project / "poetry.lock"
    lock.write_text(lock.read_text() + "\n")
    settle(lock, age=600)
    assert PLANNED in build(project, logging_engine)
