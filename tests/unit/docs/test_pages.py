"""The documentation cannot rot silently: the generated pages are what their generator writes
from the commands' and settings' definitions, the site builds in strict mode (a broken link
fails it), README stays a front door that points into the site, and every setting is described.
No engine: scripts/dev test runs these with the rest of tests/unit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
import docs_pages

from bench.recorded import read_record

RECORD = REPO / "docs" / "benchmarks.md"

MKDOCS = Path(sys.executable).parent / "mkdocs"


def mkdocs_build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_generated_pages_are_current() -> None:
    stale = [str(path.relative_to(REPO)) for path in docs_pages.stale_pages()]
    assert not stale, f"run python scripts/docs_pages.py: {stale} differ from what it writes"


def test_every_setting_and_every_option_is_in_the_reference() -> None:
    from poetry_docker_plugin.project.settings import CONVERTERS
    from poetry_docker_plugin.project.settings_help import SETTINGS_HELP

    assert set(SETTINGS_HELP) == set(CONVERTERS), "settings_help.py describes exactly the keys"
    pages = docs_pages.pages()
    settings = pages[docs_pages.DOCS / "reference" / "settings.md"]
    for key in CONVERTERS:
        assert f"\n## `{key}`\n" in settings
    for command in docs_pages.subcommands():
        page = pages[
            docs_pages.DOCS / "reference" / "cli" / f"{(command.name or '').split()[-1]}.md"
        ]
        for option in command.definition.options:
            assert f"`--{option.name}`" in page
            assert option.description, f"--{option.name} of {command.name} has no help"


def test_the_site_builds_strictly_and_a_broken_link_fails_it(tmp_path: Path) -> None:
    built = mkdocs_build(REPO, tmp_path / "site")
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "site" / "reference" / "settings" / "index.html").is_file()
    assert "apt-packages" in (tmp_path / "site" / "search" / "search_index.json").read_text()

    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(REPO / "mkdocs.yml", copy)
    shutil.copytree(REPO / "docs", copy / "docs")
    page = copy / "docs" / "guides" / "troubleshooting.md"
    page.write_text(page.read_text() + "\nSee [the missing page](no-such-page.md).\n")
    broken = mkdocs_build(copy, tmp_path / "broken-site")
    assert broken.returncode != 0
    assert "no-such-page.md" in broken.stderr


def test_readme_is_a_front_door_into_the_site() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    # the newcomer's two commands
    assert "bash scripts/dev example" in readme and "bash scripts/dev test" in readme
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert links, "README points into the documentation"
    for link in links:
        assert (REPO / link).is_file(), f"README links to {link}, which does not exist"


def test_readme_quotes_only_figures_of_the_benchmark_record() -> None:
    """Every `bench` row README names is a row of the record in docs/benchmarks.md, and the
    figure quoted beside it is the recorded one."""
    record = read_record(RECORD)
    readme = (REPO / "README.md").read_text()
    quoted = re.findall(r"\[(\d+(?:\.\d+)? (?:s|MB))\]\(docs/benchmarks\.md\) \(([^)]+)\)", readme)
    assert quoted, "README quotes the record"
    for figure, where in quoted:
        name, _, manager = where.partition(", ")
        rows = [r for r in record.rows if r.name == name and r.manager.startswith(manager)]
        assert rows, f"README cites row {where!r}, which the record lacks"
        assert figure in {r.measured for r in rows}, f"{figure} is not the record's {where}"


@pytest.mark.parametrize("page", sorted((REPO / "docs").rglob("*.md")), ids=lambda p: p.name)
def test_every_bench_row_the_docs_cite_exists(page: Path) -> None:
    """A page that cites rows of the benchmark by name (`row "..."`, `rows "..." and "..."`)
    cites rows the benchmark makes (from results in memory, as test_bench.py builds them)."""
    from bench.report import rows
    from tests.unit.bench.test_report import MEASURED

    names = {row.name for row in rows(MEASURED)}
    text = " ".join(page.read_text().split())
    for citation in re.findall(r'rows? ("[^"]+"(?:,? (?:and )?"[^"]+")*)', text):
        for cited in re.findall(r'"([^"]+)"', citation):
            assert cited in names, f"{page.name} cites row {cited!r}, which the benchmark lacks"
