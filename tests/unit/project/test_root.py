"""The one way to the project's folder: ``project_root`` without Poetry, and
``ProjectFacts.root`` with it, the same resolved folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from poetry_docker_plugin.project.facts import ProjectFacts, project_root

if TYPE_CHECKING:
    from pathlib import Path


def test_the_nearest_pyproject_from_a_subfolder_or_a_link_resolved(tmp_path: Path) -> None:
    project = tmp_path / "real" / "app"
    (project / "src" / "app").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (tmp_path / "pyproject.toml").mkdir()  # a folder of that name is no project file
    link = tmp_path / "link"
    link.symlink_to(project)
    assert project_root(project / "src" / "app") == project
    assert project_root(link / "src") == project
    facts = ProjectFacts(pyproject_path=link / "pyproject.toml", name=None, version=None)
    assert facts.root == project, "the same folder once Poetry found it"
    assert facts.image_name == "link", "named after the folder as the user calls it"


def test_no_pyproject_gives_the_folder_itself(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    assert project_root(folder) == folder.resolve()
