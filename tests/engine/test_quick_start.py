"""The quick start of README.md and docs/getting-started.md, run as written: each `$ ` line of
the block marked `<!-- quick-start` in a copy of examples/sample-app, its output (stdout and
stderr together, as a terminal shows them) checked against the lines shown.

In the shown output, a line `...` stands for any number of lines, and `...` inside a line for
any text. Two things differ from a newcomer's machine, and only these: the copy's
[tool.poetry-docker] names the offline bases of this machine (no registry is reachable here),
and an image name of the test's own, so that runs in parallel share no tag; the shown
`sample-app:1.2.0` is read as that name.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from tests.conftest import DOCKER, POETRY, REPO, TEST_BASE_IMAGE, configure, copy_fixture

MARKER = "<!-- quick-start"
PAGES = (REPO / "README.md", REPO / "docs" / "getting-started.md")


def quick_start(page: Path) -> list[tuple[str, list[str]]]:
    """The block's commands, each with the output lines shown under it."""
    block = page.read_text().split(MARKER, 1)[1].split("```console\n", 1)[1].split("\n```")[0]
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def shows(shown: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is what ``shown`` shows, with its ``...`` (see the module)."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?"
        if line == "..."
        else ".*?".join(map(re.escape, line.split("..."))) + r"\n"
        for line in shown
    )
    return re.fullmatch(pattern, "".join(f"{line}\n" for line in actual)) is not None


def test_the_quick_start_runs_as_written(
    tmp_path: Path, conda_base_image: str, project_image: str
) -> None:
    steps = quick_start(PAGES[0])
    assert quick_start(PAGES[1]) == steps, "README and getting started show the same quick start"
    assert steps[0][0] == "cd examples/sample-app"
    project = copy_fixture("examples/sample-app", tmp_path)
    configure(
        project,
        image=project_image,
        base_image=conda_base_image,
        python="3.11",
        runtime_base=TEST_BASE_IMAGE,
    )
    environment = {
        **os.environ,
        "PATH": f"{Path(POETRY).parent}{os.pathsep}{os.environ['PATH']}",
        "POETRY_DOCKER_ENGINE": DOCKER,
    }
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    for command, shown in steps[1:]:
        expected = [line.replace("sample-app:1.2.0", f"{project_image}:1.2.0") for line in shown]
        started = time.perf_counter()
        ran = subprocess.run(
            ["bash", "-c", command],
            cwd=project,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=900,
            check=False,
        )
        print(f"{command}: {time.perf_counter() - started:.1f} s")
        assert ran.returncode == 0, f"{command}\n{ran.stdout}"
        assert shows(expected, ran.stdout.splitlines()), f"{command} shows:\n{ran.stdout}"
