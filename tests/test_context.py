"""Context: only staged files reach the engine, and the fingerprint follows every input."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

from conftest import copy_fixture
from poetry.factory import Factory

from poetry_docker_plugin.context import fingerprint, project_sources, staged_context
from poetry_docker_plugin.plan import make_plan
from poetry_docker_plugin.render import render
from poetry_docker_plugin.settings import Settings

if TYPE_CHECKING:
    from pathlib import Path


def add_secrets(project: Path) -> None:
    """What a real project directory holds beside its code."""
    (project / ".env").write_text("API_TOKEN=hunter2\n")
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text("[credential]\n")
    (project / "secrets").mkdir()
    (project / "secrets" / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (project / "myenv").mkdir()
    (project / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (project / "myenv" / "lib.py").write_text("x = 1\n")
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")


def test_package_context_holds_only_generated_files_and_the_wheel(tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)
    add_secrets(project)
    poetry = Factory().create_poetry(project)
    plan = make_plan(poetry, Settings(), ["main"])
    with staged_context(poetry, plan, render(plan)) as context:
        files = sorted(p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file())
        assert files == [
            "Dockerfile",
            "activate.sh",
            "dist/hello_app-0.3.1-py3-none-any.whl",
            "entrypoint.sh",
            "requirements-compiled.txt",
            "requirements.txt",
        ]
        assert (context / "entrypoint.sh").stat().st_mode & 0o111
    assert not context.exists()


def test_sources_of_a_non_package_project_leave_secrets_out(tmp_path: Path) -> None:
    project = copy_fixture("no-package", tmp_path)
    add_secrets(project)
    (project / "data").mkdir()
    (project / "data" / "rows.csv").write_text("a,b\n")
    poetry = Factory().create_poetry(project)
    assert [p.as_posix() for p in project_sources(poetry)] == [
        "data/rows.csv",
        "main.py",
        "poetry.lock",
        "pyproject.toml",
    ]


def test_git_ignored_files_are_left_out(tmp_path: Path) -> None:
    project = copy_fixture("no-package", tmp_path)
    (project / ".gitignore").write_text("*.parquet\n")
    (project / "big.parquet").write_bytes(b"\0" * 1024)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    names = [p.as_posix() for p in project_sources(Factory().create_poetry(project))]
    assert "big.parquet" not in names
    assert "main.py" in names


def test_fingerprint_changes_with_sources_and_nothing_else(tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)

    def current() -> str:
        poetry = Factory().create_poetry(project)
        plan = make_plan(poetry, Settings(), ["main"], platform="linux/amd64")
        return fingerprint(render(plan), project, project_sources(poetry), {"platform": ""}).digest

    first = current()
    assert current() == first
    (project / "notes.txt").write_text("not part of the package\n")
    assert current() == first
    cli = project / "hello_app" / "cli.py"
    cli.write_text(cli.read_text() + "# edited\n")
    assert current() != first
