"""The conda solve's run of the base, through a fake client script: the engine runs it (the
script echoed by name, not whole), conda's answer is read, credentials are stripped from its
URLs, and conda's failure is said in one line."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from poetry_docker_plugin.engine.client import Engine
from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.pipeline.conda_solve import SOLVE_SCRIPT, solve
from tests.unit.fake_engine import fake_client
from tests.unit.plan.test_pinning import plan_of

if TYPE_CHECKING:
    from pathlib import Path

RECORD = {
    "name": "python",
    "version": "3.11.2",
    "build": "h_0",
    "url": "https://user:secret@conda.example.org/t/TOKEN/cf/linux-64/python-3.11.2-h_0.conda",
    "sha256": "0" * 64,
    "md5": "",
    "channel": "https://conda.example.org/t/TOKEN/cf",
}


def test_the_solve_runs_the_base_through_the_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = tmp_path / "arguments"
    answer = "POETRY-DOCKER-LOCK " + json.dumps([RECORD])
    client = fake_client(
        tmp_path, f"run) printf '%s\\n' \"$@\" > {arguments}; echo 'noise'; echo '{answer}';;"
    )
    engine = Engine(client.executable, echo=True)
    [package] = solve(engine, plan_of(), (), {}, network="host")
    assert (package.name, package.version, package.build) == ("python", "3.11.2", "h_0")
    assert package.url == "https://conda.example.org/cf/linux-64/python-3.11.2-h_0.conda"
    assert package.channel == "https://conda.example.org/cf"
    given = arguments.read_text()
    assert "--network\nhost\n" in given and "team/conda:1\n" in given
    assert SOLVE_SCRIPT in given  # the whole script reaches the container ...
    echoed = capsys.readouterr().err
    assert echoed.startswith(f"$ {client.executable} run --rm ")
    assert " SCRIPT " in echoed and "Solver" not in echoed  # ... and only its name the terminal


def test_a_solve_that_fails_says_condas_error_line(tmp_path: Path) -> None:
    engine = fake_client(
        tmp_path,
        "run) echo 'CondaHTTPError: HTTP 000 CONNECTION FAILED for url <https://c.example>' >&2;"
        " echo \"'http//c.example'\" >&2; exit 1;;",
    )
    with pytest.raises(DockerPluginError) as failed:
        solve(engine, plan_of(), (), {})
    message = str(failed.value)
    assert message.startswith("conda in the base image team/conda:1 could not solve python=3.11")
    assert "CondaHTTPError: HTTP 000 CONNECTION FAILED" in message and "http//" not in message
    assert message.endswith("Nothing was written.")
