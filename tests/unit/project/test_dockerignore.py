"""``.dockerignore``: Docker's rules, checked on its documented examples and against the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.project.dockerignore import DockerIgnore


def kept(ignore: str, *paths: str) -> list[str]:
    """Which of ``paths`` a ``.dockerignore`` with the text ``ignore`` lets through."""
    matcher = DockerIgnore.parse(ignore)
    return [path for path in paths if not matcher.excludes(path)]


def test_one_level_below_the_root() -> None:
    assert kept(
        "*/temp*", "somedir/temporary.txt", "somedir/temp", "somedir/temp/a", "temp", "a/b/temp1"
    ) == ["temp", "a/b/temp1"]


def test_two_levels_below_the_root() -> None:
    assert kept("*/*/temp*", "somedir/subdir/temporary.txt", "somedir/temporary.txt") == [
        "somedir/temporary.txt"
    ]


def test_question_mark_is_one_character() -> None:
    assert kept("temp?", "tempa", "tempb", "temp", "tempab", "sub/tempa") == [
        "temp",
        "tempab",
        "sub/tempa",
    ]


def test_double_star_matches_any_number_of_directories() -> None:
    assert kept("**/*.go", "a.go", "x/y/z.go", "a.gox", "go") == ["a.gox", "go"]


def test_an_exception_re_includes() -> None:
    assert kept("*.md\n!README.md", "CHANGES.md", "README.md", "docs/x.md") == [
        "README.md",
        "docs/x.md",
    ]


def test_the_last_matching_line_wins() -> None:
    files = ("README-secret.md", "README-x.md", "a.md")
    assert kept("*.md\n!README*.md\nREADME-secret.md", *files) == ["README-x.md"]
    assert kept("*.md\nREADME-secret.md\n!README*.md", *files) == [
        "README-secret.md",
        "README-x.md",
    ]


def test_a_directory_excludes_its_contents_and_an_exception_reaches_inside() -> None:
    files = ("data/rows.csv", "data/keep.csv", "data/deep/x", "database.py", "sub/data/y")
    assert kept("data", *files) == ["database.py", "sub/data/y"]
    assert kept("data/\n!data/keep.csv", *files) == ["data/keep.csv", "database.py", "sub/data/y"]
    assert kept("data\n!data/deep", *files) == ["data/deep/x", "database.py", "sub/data/y"]
    assert kept("*\n!src", "src/app.py", "setup.py", "src") == ["src/app.py", "src"]


def test_an_exception_with_wildcards_reaches_into_an_excluded_folder() -> None:
    """As current Docker (BuildKit's fsutil with moby/patternmatcher) does.

    Docker 20.10's walker skipped an excluded folder unless an exception named a path in it
    literally, so it left ``pkg/tests/fixtures/g.json`` out; newer engines send it.
    """
    ignore = "*\n!pkg\npkg/tests\n!**/g.json"
    files = ("pkg/mod.py", "pkg/tests/t.py", "pkg/tests/fixtures/g.json", "g.json")
    assert kept(ignore, *files) == ["pkg/mod.py", "pkg/tests/fixtures/g.json", "g.json"]


def test_star_stays_within_one_directory() -> None:
    assert kept("*.csv", "rows.csv", "data/rows.csv") == ["data/rows.csv"]
    assert kept("a*b", "ab", "a/b", "axxb") == ["a/b"]


def test_double_star_forms() -> None:
    files = ("fixtures/a", "tests/fixtures/b", "a/b/fixtures", "myfixtures/c")
    assert kept("**/fixtures", *files) == ["myfixtures/c"]
    assert kept("a/**/b", "a/b", "a/x/y/b", "a/xb", "b") == ["a/xb", "b"]
    assert kept("a/**", "a/x", "a/x/y", "a", "ab") == ["a", "ab"]
    assert kept("**", "a", "a/b") == []


def test_patterns_are_cleaned_like_go_paths() -> None:
    files = ("notes.txt", "sub/notes.txt", "a/b")
    for pattern in ("notes.txt", "/notes.txt", "./notes.txt", "notes.txt/", "x/../notes.txt"):
        assert kept(pattern, *files) == ["sub/notes.txt", "a/b"], pattern
    assert kept("a//b", *files) == ["notes.txt", "sub/notes.txt"]
    assert kept("//a", *files) == ["notes.txt", "sub/notes.txt"]


def test_comments_blank_lines_and_white_space() -> None:
    text = "\ufeff# a comment\n\n   \n  keep.txt  \r\n !  secret.txt\r\n #x\n"
    matcher = DockerIgnore.parse(text)
    assert [(p.text, p.exception) for p in matcher.patterns] == [
        ("keep.txt", False),
        ("secret.txt", True),
        ("#x", False),
    ], "only a # in the first column starts a comment"
    assert kept("#x\nb", "#x", "b") == ["#x"]


def test_character_classes_and_escapes() -> None:
    files = ("a.txt", "b.txt", "d.txt", "*.txt", "]x", "a-b")
    assert kept("[a-c].txt", *files) == ["d.txt", "*.txt", "]x", "a-b"]
    assert kept("[^a-c].txt", *files) == ["a.txt", "b.txt", "]x", "a-b"]
    assert kept("\\*.txt", *files) == ["a.txt", "b.txt", "d.txt", "]x", "a-b"]
    assert kept("[\\]]x\na[\\-]b", *files) == ["a.txt", "b.txt", "d.txt", "*.txt"]
    assert kept("a.(txt|md)+", "a.txt", "a.(txt|md)+") == ["a.txt"], "no regex syntax leaks"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("!", '"!"'),
        ("  !  ", '"!"'),
        ("[a", "no closing ]"),
        ("[]a]", "malformed"),
        ("[z-a]", "empty"),
        ("a\\", "escaping backslash"),
    ],
)
def test_patterns_docker_refuses_are_errors(line: str, reason: str) -> None:
    with pytest.raises(DockerPluginError) as error:
        DockerIgnore.parse(f"ok\n{line}\n", "/p/.dockerignore")
    assert f"/p/.dockerignore, line 2: {line.strip()!r}" in str(error.value)
    assert reason in str(error.value)


def test_pruning_a_directory_only_when_nothing_inside_can_come_back() -> None:
    assert DockerIgnore.parse("data").prunes("data")
    assert not DockerIgnore.parse("data").prunes("src")
    assert not DockerIgnore.parse("data\n!**/keep.csv").prunes("data")


def test_no_file_excludes_nothing(tmp_path: Path) -> None:
    assert DockerIgnore.read(tmp_path) == DockerIgnore()
    assert not DockerIgnore.read(tmp_path).excludes("anything")
