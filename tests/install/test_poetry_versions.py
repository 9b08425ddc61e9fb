"""The plugin on each end of the Poetry range it declares, and refused outside it.

``.venv`` has the newest Poetry and poetry-plugin-export (poetry.lock); scripts/dev makes
POETRY_OLDEST_VENV with the oldest that pyproject.toml admits (Poetry 2.0.0 and
poetry-plugin-export 1.9.0) and POETRY_UNSUPPORTED_VENV with Poetry 1.8.5, each with this
plugin installed. Without them these tests are skipped, except with REQUIRE_DOCKER=1 (CI),
where a missing one is a failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from tests.conftest import (
    POETRY,
    REPO,
    TEST_BASE_IMAGE,
    Result,
    configure,
    copy_fixture,
    docker,
    locked_versions,
    run_poetry,
)

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def venv_from(variable: str) -> Path:
    """The venv that scripts/dev names in ``variable``; a skip (or failure in CI) without."""
    value = os.environ.get(variable)
    if value and (Path(value) / "bin" / "poetry").exists():
        return Path(value)
    reason = f"{variable} names no venv with Poetry ({value!r}): bash scripts/dev test makes it"
    if os.environ.get("REQUIRE_DOCKER") == "1":
        pytest.fail(f"{reason}, and REQUIRE_DOCKER=1")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def oldest() -> Path:
    return venv_from("POETRY_OLDEST_VENV")


@pytest.fixture(scope="module")
def unsupported() -> Path:
    return venv_from("POETRY_UNSUPPORTED_VENV")


def installed(venv_python: Path | str, *names: str) -> list[str]:
    """The versions of ``names`` installed beside ``venv_python``."""
    script = "import sys, importlib.metadata as m; print(*map(m.version, sys.argv[1:]))"
    ran = subprocess.run(
        [str(venv_python), "-c", script, *names], capture_output=True, text=True, check=True
    )
    return ran.stdout.split()


def floor(name: str) -> str:
    """The lower bound of ``name``'s range in pyproject.toml's dependencies, as X.Y.0."""
    (spec,) = [d for d in PYPROJECT["project"]["dependencies"] if d.startswith(f"{name} (")]
    match = re.search(r">=(\d+)\.(\d+)", spec)
    assert match, spec
    return f"{match[1]}.{match[2]}.0"


def test_the_tested_poetrys_are_the_ends_of_the_declared_ranges(oldest: Path) -> None:
    """The oldest venv holds the floors of both ranges; .venv holds the locked versions."""
    names = ("poetry", "poetry-plugin-export")
    assert installed(oldest / "bin" / "python", *names) == [floor(n) for n in names]
    lock = tomllib.loads((REPO / "poetry.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}
    assert installed(sys.executable, *names) == [locked[n] for n in names]


def test_the_engine_free_tests_pass_on_the_oldest_poetry(oldest: Path) -> None:
    """Every test that needs no engine, run by the oldest Poetry's Python (so that conftest's
    ``poetry`` is the oldest one too): tests/unit/ is exactly the tests that need no engine
    (some use the docker client against an engine that is not there). Left out: the
    benchmark's record (no Poetry in it)."""
    completed = subprocess.run(
        [
            str(oldest / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-n", "auto", "tests/unit", "--ignore", "tests/unit/bench/test_report.py",
        ],
        cwd=REPO,
        env={**os.environ, "REQUIRE_DOCKER": "0"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )  # fmt: skip
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    assert re.search(r"\b\d{3} passed\b", output), output[-2000:]


@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_the_example_builds_runs_and_opens_a_shell(
    which: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    conda_base_image: str,
    project_image: str,
) -> None:
    """What `bash scripts/dev example` does, by each Poetry: the conda path on the offline
    conda base."""
    poetry = (
        str(request.getfixturevalue("oldest") / "bin" / "poetry") if which == "oldest" else POETRY
    )
    project = copy_fixture("examples/sample-app", tmp_path)
    configure(
        project,
        image=project_image,
        base_image=conda_base_image,
        python="3.11",
        runtime_base=TEST_BASE_IMAGE,
    )

    def poetry_docker(*arguments: str) -> Result:
        result = run_poetry(project, "docker", *arguments, poetry=poetry)
        assert result.returncode == 0, result.output
        return result

    built = poetry_docker("build")
    assert f"{project_image}:1.2.0" in built.stdout
    labels = docker(
        "image", "inspect", "--format", "{{json .Config.Labels}}", built.stdout.split()[-1]
    )
    assert '"org.opencontainers.image.licenses":"MIT"' in labels.stdout
    check = (
        "import numpy, pandas, sample_app; print('versions', numpy.__version__, pandas.__version__)"
    )
    ran = poetry_docker("run", "--", "python", "-c", check)
    numpy, pandas = ran.stdout.split("versions ")[1].split()
    locked = locked_versions(project)  # numpy is locked twice, by Python version
    assert numpy in locked["numpy"] and pandas in locked["pandas"], ran.stdout
    shell = poetry_docker("shell", "-c", "python -c 'import pytest, sample_app; print(\"dev ok\")'")
    assert "dev ok" in shell.stdout


def test_an_unsupported_poetry_is_refused_in_one_line(unsupported: Path) -> None:
    """Poetry 1.8.5 with the plugin installed anyway: each docker command prints one line
    naming both versions and exits 1; Poetry's own commands still work."""
    poetry = str(unsupported / "bin" / "poetry")
    project = REPO / "examples" / "sample-app"
    for command in (("build",), ("run", "--", "python", "-c", "1"), ("shell", "-q", "-c", "x")):
        result = run_poetry(project, "docker", *command, poetry=poetry, timeout=120)
        assert result.returncode == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert "needs Poetry >=2.0,<3" in lines[0] and "this is Poetry 1.8.5" in lines[0]
    version = run_poetry(project, "--version", poetry=poetry)
    assert version.returncode == 0 and "1.8.5" in version.stdout, version.output
