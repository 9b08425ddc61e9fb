"""``.dockerignore``: Docker's rules, checked on its documented examples and against the engine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from poetry_docker_plugin.project.dockerignore import DockerIgnore
from tests.conftest import DOCKER


def kept(ignore: str, *paths: str) -> list[str]:
    """Which of ``paths`` a ``.dockerignore`` with the text ``ignore`` lets through."""
    matcher = DockerIgnore.parse(ignore)
    return [path for path in paths if not matcher.excludes(path)]


TREE = (
    "a.csv",
    "keep.csv",
    "data/keep.csv",
    "data/rows.csv",
    "data/deep/x.bin",
    "sub/b.csv",
    "sub/data/y",
    "fixtures/f.json",
    "pkg/tests/fixtures/g.json",
    "pkg/mod.py",
    "temp",
    "tempa",
    "dir/temporary.txt",
    "dir/sub/temp1",
    "README.md",
    "README-secret.md",
    "notes.md",
    "docs/guide.md",
    "name[1].txt",
    "a b/c d.txt",
)


IGNORE_FILES = (
    "data/\n*.csv\n!keep.csv\n**/fixtures\n/notes.md\n",
    "*/temp*\n*/*/temp*\ntemp?\n",
    "*.md\n!README*.md\nREADME-secret.md\n",
    "*.md\nREADME-secret.md\n!README*.md\n",
    "**/*.csv\n!data/keep.csv\ndata\n",
    "data\n!data/keep.csv\n!data/deep\n",
    "*\n!pkg\npkg/tests\n!pkg/tests/fixtures/g.json\n",
    "# comment\n ./sub/ \n**/*.json\nname\\[1\\].txt\n[a-c] b\n",
    "**\n!docs/**\n",
    "/README.md\n./dir/**\nsub/*/y\ntemp[^a]\n",
)


@pytest.mark.parametrize("ignore", IGNORE_FILES)
def test_the_same_files_as_docker_build(tmp_path: Path, engine: str, ignore: str) -> None:
    context = tmp_path / "context"
    for name in TREE:
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text(name)
    (context / ".dockerignore").write_text(ignore)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\nCOPY . /\n")
    out = tmp_path / "out"
    subprocess.run(
        [DOCKER, "build", "-q", "-f", str(dockerfile), "-o", f"type=local,dest={out}", "."],
        cwd=context,
        check=True,
        capture_output=True,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    sent = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert sorted(kept(ignore, *TREE, ".dockerignore")) == sent
