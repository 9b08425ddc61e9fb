"""The shape of the package: no import cycle, no module too long to read in one sitting, and
each input read once per command."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import FIXTURES, REPO

if TYPE_CHECKING:
    from pathlib import Path


def test_no_import_cycle_and_no_module_over_400_lines() -> None:
    """`python scripts/import_graph.py` says so (`--dot` draws the graph)."""
    checked = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "import_graph.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
    assert "no import cycle" in checked.stdout


def load_import_graph() -> Any:
    """scripts/import_graph.py as a module (it is a script, not part of a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "import_graph", REPO / "scripts" / "import_graph.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_import_check_sees_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself can fail: a names.py that imports the package is a cycle and a leaf
    with an import."""
    import_graph = load_import_graph()
    package = tmp_path / "poetry_docker_plugin"
    package.mkdir()
    (package / "names.py").write_text("from poetry_docker_plugin.errors import X\n")
    (package / "errors.py").write_text("from poetry_docker_plugin import names\n")
    monkeypatch.setattr(import_graph, "SOURCE", package)
    found = import_graph.problems()
    assert any("import cycle" in problem for problem in found), found
    assert any("names imports" in problem for problem in found), found


def test_the_import_check_sees_an_upward_import_a_stray_package_and_a_crowded_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The layering can fail too: the engine importing the plan (a higher layer), a
    sub-package in no layer, and a root of more than ten modules."""
    import_graph = load_import_graph()
    package = tmp_path / "poetry_docker_plugin"
    for folder in ("engine", "plan", "helpers"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "plan" / "model.py").write_text("X = 1\n")
    (package / "engine" / "client.py").write_text("from poetry_docker_plugin.plan.model import X\n")
    (package / "helpers" / "misc.py").write_text("")
    for index in range(11):
        (package / f"module{index}.py").write_text("")
    (package / "names.py").write_text("")
    (package / "errors.py").write_text("")
    monkeypatch.setattr(import_graph, "SOURCE", package)
    found = import_graph.problems()
    assert (
        "poetry_docker_plugin.engine.client imports poetry_docker_plugin.plan.model, "
        "a higher layer (plan)"
    ) in found, found
    assert any("helpers.misc is in no layer" in problem for problem in found), found
    assert any("the package root holds 13 modules" in problem for problem in found), found
    assert import_graph.upward_imports(import_graph.graph()) != []


@pytest.mark.parametrize("arguments", [("build", "--print"), ("build", "--output", "out")])
def test_the_lock_and_the_project_are_read_once_per_command(
    arguments: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through Poetry's own application, in this process, counting the calls."""
    import shutil

    from cleo.testers.application_tester import ApplicationTester
    from poetry.console.application import Application

    from poetry_docker_plugin.lock import read
    from poetry_docker_plugin.project.facts import ProjectFacts

    project = tmp_path / "app"
    shutil.copytree(FIXTURES / "flat-script", project)
    calls: list[str] = []
    read_lock, read_project = read.read_lock, ProjectFacts.read

    def counted_lock(*args: object, **kwargs: object) -> object:
        calls.append("lock")
        return read_lock(*args, **kwargs)  # type: ignore[arg-type]

    def counted_project(cls: type[ProjectFacts], poetry: object) -> ProjectFacts:
        calls.append("project")
        return read_project(poetry)  # type: ignore[arg-type]

    monkeypatch.setattr(read, "read_lock", counted_lock)
    monkeypatch.setattr(ProjectFacts, "read", classmethod(counted_project))
    monkeypatch.chdir(project)
    monkeypatch.setenv("POETRY_DOCKER_ENGINE", os.devnull)  # no engine: files only
    tester = ApplicationTester(Application())
    status = tester.execute(" ".join(("docker", *arguments)))
    assert status == 0, tester.io.fetch_error()
    assert sorted(calls) == ["lock", "project"]
