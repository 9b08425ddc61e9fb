"""The survey of real projects (bench/survey.py), without an engine: its list names every project
by repository and full commit with the modules to import and a recorded first try, and the line
it reports for a failed build is the one that says why.

The survey itself is not run by CI (it builds sixteen real projects from PyPI and Debian's
mirror); these tests keep its list and its reading of failures from rotting.
"""

from __future__ import annotations

import re
import sys

from tests.conftest import REPO

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.survey import Outcome, first_cause, read_projects, recorded_table, table

COMMIT = re.compile(r"[0-9a-f]{40}")


def test_every_project_is_pinned_and_has_a_first_try() -> None:
    projects = read_projects()
    assert len(projects) >= 12
    assert len({p.name for p in projects}) == len(projects)
    for project in projects:
        assert COMMIT.fullmatch(project.commit), project.name
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", project.repo), project.name
        assert project.imports, project.name
        before = project.recorded["before-venv"]
        assert before.result in {"ok", "fail"}, project.name
        assert before.result == "ok" or before.cause, f"{project.name}: a failure says why"


def test_the_cause_is_the_compilers_line_not_the_generic_one() -> None:
    output = "\n".join(
        [
            "#14 33.96 Modules/common.h:15:10: fatal error: lber.h: No such file or directory",
            "#14 33.96   ERROR: Failed building wheel for python-ldap",
            "The image build failed (`docker build` exited with 1); the engine's output above...",
        ]
    )
    assert first_cause(output) == "fatal error: lber.h: No such file or directory"


def test_the_cause_of_a_failed_import_is_the_missing_library() -> None:
    output = (
        'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
        "OSError: libgomp.so.1: cannot open shared object file: No such file or directory\n"
    )
    assert first_cause(output).startswith("libgomp.so.1: cannot open shared object file")


def test_the_tables_count_what_passed() -> None:
    projects = read_projects()[:2]
    rows = [(projects[0], Outcome(None, "", 12.0)), (projects[1], Outcome("build", "a|b", 3.0))]
    text = table(rows, "venv")
    assert "1 of 2 built and imported on the first try (venv)." in text
    assert "a\\|b" in text  # a cell cannot break the table
    recorded = recorded_table(read_projects())
    assert re.search(r"^before-venv: \d+ of \d+ ok\.$", recorded, re.MULTILINE)
