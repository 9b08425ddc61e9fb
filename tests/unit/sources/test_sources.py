"""Context: only staged files reach the engine, and the fingerprint follows every input."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from poetry.factory import Factory

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.freshness.fingerprint import fingerprint
from poetry_docker_plugin.freshness.kept_rendering import render_key
from poetry_docker_plugin.names import LOCAL_SOURCES_DIR, SOURCES_DIR
from poetry_docker_plugin.pipeline.staging import staged_context
from poetry_docker_plugin.project.cache import ProjectCache
from poetry_docker_plugin.project.never_copied import NEVER_COPIED
from poetry_docker_plugin.project.settings import Settings
from poetry_docker_plugin.render.dockerfile import RenderedFiles, render
from poetry_docker_plugin.sources.digests import source_digests
from poetry_docker_plugin.sources.listing import package_files, project_sources
from tests.conftest import (
    CREDENTIALS,
    DOCKERIGNORE,
    FIXTURES,
    KEPT,
    REPO,
    add_dockerignored,
    add_secrets,
    copy_fixture,
    git_init,
    plan_from_poetry,
    poetry_in_process,
)

if TYPE_CHECKING:
    from poetry.poetry import Poetry

    from poetry_docker_plugin.plan.model import BuildPlan


def rendered(poetry: Poetry, plan: BuildPlan) -> RenderedFiles:
    """The plan's files, rendered with the digests of the project's files as ``build`` does."""
    return render(plan, source_digests(poetry, plan))


def fingerprint_of(project: Path, cache: ProjectCache | None = None) -> str:
    """The digest of every input of the project's image, as ``build`` computes it."""
    poetry = Factory().create_poetry(project)
    plan = plan_from_poetry(poetry, Settings(), ["main"], platform="linux/amd64")
    sources = source_digests(poetry, plan, cache)
    if cache is not None:
        cache.save()
    return fingerprint(render(plan, sources), sources, {"platform": ""}).digest


def age(project: Path, seconds: int = 60) -> None:
    """Every file and directory of ``project`` last modified ``seconds`` ago."""
    past = time.time() - seconds
    for path in [project, *project.rglob("*")]:
        os.utime(path, (past, past))


def test_the_stat_cache_answers_as_a_full_read_does(tmp_path: Path) -> None:
    """Cached: a no-change call reads no file, and every change is still seen."""
    project = copy_fixture("flat-script", tmp_path)
    age(project)
    path = tmp_path / "cache.json"
    first = fingerprint_of(project, ProjectCache(path))
    assert first == fingerprint_of(project), "the same answer as without the cache"
    recorded = json.loads(path.read_text())
    assert recorded["listings"] and recorded["files"], "a no-change call can be answered"
    assert fingerprint_of(project, ProjectCache(path)) == first

    cli = project / "hello_app" / "cli.py"
    cli.write_text(cli.read_text() + "# edited\n")
    edited = fingerprint_of(project, ProjectCache(path))
    assert edited != first and edited == fingerprint_of(project)

    (project / "hello_app" / "extra.py").write_text("X = 1\n")  # a new file: a new listing
    added = fingerprint_of(project, ProjectCache(path))
    assert added != edited and added == fingerprint_of(project)


def test_an_edit_in_the_same_clock_tick_is_never_missed(tmp_path: Path) -> None:
    """Racy git's rule: what changed just now is not recorded, so the same size and time
    with other content (an edit within one tick of the clock) is read again."""
    project = copy_fixture("flat-script", tmp_path)
    age(project)
    path = tmp_path / "cache.json"
    cli = project / "hello_app" / "cli.py"
    now = time.time()
    cli.write_text(cli.read_text().replace("hello", "HELLO"))
    os.utime(cli, (now, now))
    before = fingerprint_of(project, ProjectCache(path))
    cli.write_text(cli.read_text().replace("HELLO", "hallo"))  # same size
    os.utime(cli, (now, now))
    assert fingerprint_of(project, ProjectCache(path)) != before


def test_a_rendering_is_kept_for_its_plan_and_renderer_only(tmp_path: Path) -> None:
    """The no-change path reuses the files rendered for the same plan, digests and plugin
    code; any other plan, or an edited template, renders afresh."""
    project = copy_fixture("flat-script", tmp_path)
    poetry = Factory().create_poetry(project)
    plans = [
        plan_from_poetry(poetry, Settings(user=user), ["main"], platform="linux/amd64")
        for user in ("root", "svc")
    ]
    sources = source_digests(poetry, plans[0])
    path = tmp_path / "cache.json"
    made: list[str] = []

    def rendering(plan: BuildPlan) -> RenderedFiles:
        cache = ProjectCache(path)

        def make() -> RenderedFiles:
            made.append("svc" if plan is plans[1] else "root")
            return render(plan, sources)

        fields = len(dataclasses.fields(RenderedFiles))
        texts = cache.kept_texts(
            render_key(plan, sources), fields, lambda: list(dataclasses.astuple(make()))
        )
        cache.save()
        return RenderedFiles(*texts)

    assert rendering(plans[0]) == render(plans[0], sources)
    assert rendering(plans[0]) == render(plans[0], sources) and made == ["root"]
    assert "USER svc" in rendering(plans[1]).dockerfile and made == ["root", "svc"]
    template = Path(render.__code__.co_filename).parent / "templates" / "Dockerfile.j2"
    stamp = template.stat()
    try:
        os.utime(template, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1))
        rendering(plans[1])
    finally:
        os.utime(template, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert made == ["root", "svc", "svc"], "a changed template is a new renderer"


def test_the_stat_cache_forgets_deleted_files(tmp_path: Path) -> None:
    """Files deleted since are dropped when the cache is written, so churn does not grow it."""
    project = copy_fixture("flat-script", tmp_path)
    doomed = project / "hello_app" / "doomed.py"
    doomed.write_text("X = 1\n")
    age(project)
    path = tmp_path / "cache.json"
    fingerprint_of(project, ProjectCache(path))
    assert str(doomed) in json.loads(path.read_text())["digests"]
    doomed.unlink()
    age(project)
    fingerprint_of(project, ProjectCache(path))
    kept = json.loads(path.read_text())["digests"]
    assert str(doomed) not in kept and str(project / "hello_app" / "cli.py") in kept


def test_package_context_holds_only_generated_files_and_the_wheel(tmp_path: Path) -> None:
    project = copy_fixture("flat-script", tmp_path)
    add_secrets(project)
    poetry = Factory().create_poetry(project)
    plan = plan_from_poetry(poetry, Settings(), ["main"])
    with staged_context(poetry, plan, rendered(poetry, plan)) as context:
        files = sorted(p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file())
        assert files == [
            "Dockerfile",
            "activate.sh",
            "check_libraries.py",
            "dist/hello_app-0.3.1-py3-none-any.whl",
            "entrypoint.sh",
            "library-check.json",
            "requirements-compiled.txt",
            "requirements.txt",
            "sbom-inputs.json",
            "write_sbom.py",
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

    first = fingerprint_of(project)
    assert fingerprint_of(project) == first
    (project / "notes.txt").write_text("not part of the package\n")
    assert fingerprint_of(project) == first
    cli = project / "hello_app" / "cli.py"
    cli.write_text(cli.read_text() + "# edited\n")
    assert fingerprint_of(project) != first


@pytest.mark.parametrize("in_git", [False, True], ids=["outside-git", "in-git"])
def test_dockerignore_and_credentials_are_left_out(tmp_path: Path, in_git: bool) -> None:
    project = copy_fixture("no-package", tmp_path)
    add_dockerignored(project)
    add_secrets(project)
    if in_git:
        git_init(project, "sub/notes.txt")  # proof that git, not a walk, listed the files
    else:
        shutil.rmtree(project / ".git")
    expected = [name for name in KEPT if not (in_git and name == "sub/notes.txt")]
    assert [p.as_posix() for p in project_sources(Factory().create_poetry(project))] == expected


def test_the_staged_sources_are_the_listed_ones(tmp_path: Path) -> None:
    project = copy_fixture("no-package", tmp_path)
    add_dockerignored(project)
    poetry = Factory().create_poetry(project)
    plan = plan_from_poetry(poetry, Settings(), ["main"])
    with staged_context(poetry, plan, rendered(poetry, plan)) as context:
        root = context / SOURCES_DIR
        staged = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert staged == KEPT


def test_editing_an_ignored_file_changes_no_fingerprint(tmp_path: Path) -> None:
    project = copy_fixture("no-package", tmp_path)
    add_dockerignored(project)

    first = fingerprint_of(project)
    for name in ("data/big.bin", "rows.csv", "tests/fixtures/b.json", "notes.txt", *CREDENTIALS):
        (project / name).write_text("edited\n")
        assert fingerprint_of(project) == first, name
    (project / ".dockerignore").write_text(DOCKERIGNORE + "# a comment\n")
    assert fingerprint_of(project) == first, "a .dockerignore that leaves out the same files"
    (project / "keep.csv").write_text("edited\n")
    assert fingerprint_of(project) != first


def test_a_path_dependency_built_in_the_image_honours_its_own_dockerignore(
    tmp_path: Path,
) -> None:
    shutil.copytree(FIXTURES / "monorepo", tmp_path / "monorepo")
    lib = tmp_path / "monorepo" / "libs" / "legacylib"
    (lib / ".dockerignore").write_text("data\n")
    (lib / "data").mkdir()
    (lib / "data" / "big.bin").write_bytes(b"\0" * 4096)
    (lib / ".npmrc").write_text("//registry.npmjs.org/:_authToken=secret\n")
    poetry = Factory().create_poetry(tmp_path / "monorepo" / "app")
    plan = plan_from_poetry(poetry, Settings(), ["main"])
    (legacylib,) = [r for r in plan.dependencies.local_sources if r.name == "legacylib"]
    root, files_read = package_files(legacylib)  # what the fingerprint and the Dockerfile read
    assert root == lib
    inputs = [path.as_posix() for path in files_read]
    assert inputs == ["legacylib/__init__.py", "pyproject.toml"]
    with staged_context(poetry, plan, rendered(poetry, plan)) as context:
        staged = context / LOCAL_SOURCES_DIR / "legacylib"
        files = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    assert files == inputs


def test_a_pattern_docker_refuses_is_a_clear_error(tmp_path: Path) -> None:
    project = copy_fixture("no-package", tmp_path)
    (project / ".dockerignore").write_text("data\n!\n")
    with pytest.raises(DockerPluginError, match=r"\.dockerignore, line 2: '!'"):
        project_sources(Factory().create_poetry(project))
    result = poetry_in_process(project, "docker", "build", "--print")
    assert result.returncode == 1
    assert ".dockerignore, line 2" in result.stderr
    assert "Traceback" not in result.output


def test_the_documentation_lists_every_built_in_exclusion() -> None:
    readme = (REPO / "docs" / "reference" / "build-context.md").read_text()
    section = readme.split("brings them back.")[1].split("Data is not among them")[0]
    assert sorted(re.findall(r"`([^`]+)`", section)) == sorted(NEVER_COPIED)


def test_a_package_gets_what_poetry_build_puts_in_its_wheel(tmp_path: Path) -> None:
    """A .env inside the package directory too, as docs/reference/build-context.md says;
    ``exclude`` keeps it out."""
    project = copy_fixture("flat-script", tmp_path)
    (project / "hello_app" / ".env").write_text("API_TOKEN=hunter2\n")

    def wheel_files() -> list[str]:
        poetry = Factory().create_poetry(project)
        plan = plan_from_poetry(poetry, Settings(), ["main"])
        with staged_context(poetry, plan, rendered(poetry, plan)) as context:
            (path,) = (context / "dist").glob("*.whl")
            with zipfile.ZipFile(path) as wheel:
                return wheel.namelist()

    assert "hello_app/.env" in wheel_files()
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write('\n[tool.poetry]\nexclude = ["hello_app/.env"]\n')
    assert "hello_app/.env" not in wheel_files()
