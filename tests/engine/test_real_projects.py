"""Real projects build on the first try (issue 28): sdists that need system headers, packages
with wheels for other systems only, wheels that link system libraries the base lacks. Each
fixture is a small project whose lock holds the real packages from PyPI, built with nothing
set but the base image, and imported."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import (
    DOCKER,
    POETRY,
    TEST_BASE_IMAGE,
    Base,
    configure,
    copy_fixture,
    docker,
    run_poetry,
)

# fixture -> (what runs in the image, what it prints)
REAL_PROJECTS = {
    # psycopg2 publishes Windows wheels and an sdist: built with libpq-dev, runs with libpq5
    "django-psycopg2": ("from shop.check import main; main()", "django 5.1.15 psycopg2 2.9.10"),
    # an sdist of C code only: libldap2-dev and libsasl2-dev to build, libldap-2.5-0 to run
    "python-ldap": ("import ldap; print('ldap', ldap.__version__)", "ldap 3.4.4"),
    # Windows wheels and an sdist that finds its library with pkg-config
    "mysqlclient": (
        "import MySQLdb; print('mysqlclient', *MySQLdb.version_info[:3])",
        "mysqlclient 2 2 7",
    ),
    # a manylinux wheel that links libgomp.so.1, which slim bases lack
    "lightgbm-model": (
        "import lightgbm; print('lightgbm', lightgbm.__version__)",
        "lightgbm 4.5.0",
    ),
}
# What must not reach the runtime image: compilers, *-config programs, headers of -dev packages.
BUILD_LEFTOVERS = (
    "command -v gcc cc pg_config mysql_config pkg-config;"
    " ls /usr/include/libpq-fe.h /usr/include/lber.h /usr/include/mysql 2>/dev/null; true"
)


def base_options(base: Base) -> list[str]:
    """Only the base images: the conda stand-in's runtime stage is the offline test base, and
    its channel holds Python 3.11 alone (Miniforge's holds every Python the project allows)."""
    if base.manager == "venv":
        return ["--base-image", base.image]
    return ["--base-image", base.image, "--runtime-base", TEST_BASE_IMAGE, "--python", "3.11"]


@pytest.mark.parametrize("fixture", list(REAL_PROJECTS))
def test_a_real_project_builds_and_imports_with_nothing_set(
    fixture: str, base: Base, tmp_path: Path, image_tag: str
) -> None:
    project = copy_fixture(fixture, tmp_path)
    # LightGBM's check step runs even when an earlier test cached it, so that it says what it added
    fresh = ["--no-cache"] if fixture == "lightgbm-model" else []
    built = run_poetry(project, "docker", "build", "--tag", image_tag, *fresh, *base_options(base))
    assert built.returncode == 0, built.output
    code, expected = REAL_PROJECTS[fixture]
    ran = docker("run", "--rm", image_tag, "python", "-c", code)
    assert ran.stdout.startswith(expected), ran.stdout
    leftovers = docker("run", "--rm", "--entrypoint", "sh", image_tag, "-c", BUILD_LEFTOVERS)
    assert leftovers.stdout.strip() == "", "build tools and headers stay in the wheels stage"
    if fixture == "lightgbm-model":
        # said once on stderr, in the user's words, whatever the engine folds away
        assert "Added for the wheels: installed the Debian package libgomp1 for libgomp.so.1" in (
            built.stderr
        ), built.stderr


def yaml_extension(directory: Path) -> Path:
    """A project whose path dependency is C code that includes <yaml.h> and links libyaml,
    which no table of the plugin names: the user's setting must add it."""
    package = directory / "cyaml"
    (package / "cyaml").mkdir(parents=True)
    (package / "cyaml" / "__init__.py").write_text("from cyaml._cyaml import version\n")
    (package / "cyaml" / "_cyaml.c").write_text(
        "#include <Python.h>\n#include <yaml.h>\n\n"
        "static PyObject *version(PyObject *self, PyObject *args) {\n"
        "    return PyUnicode_FromString(yaml_get_version_string());\n}\n\n"
        'static PyMethodDef methods[] = {{"version", version, METH_NOARGS, NULL},\n'
        "    {NULL, NULL, 0, NULL}};\n"
        'static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cyaml", NULL, -1, methods};\n'
        "PyMODINIT_FUNC PyInit__cyaml(void) { return PyModule_Create(&module); }\n"
    )
    (package / "setup.py").write_text(
        "from setuptools import Extension, setup\n\n"
        'setup(ext_modules=[Extension("cyaml._cyaml", ["cyaml/_cyaml.c"], libraries=["yaml"])])\n'
    )
    (package / "pyproject.toml").write_text(
        '[project]\nname = "cyaml"\nversion = "1.0.0"\nrequires-python = ">=3.9"\n\n'
        '[tool.setuptools]\npackages = ["cyaml"]\n\n'
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    project = directory / "app"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        "[tool.poetry]\npackage-mode = false\n\n"
        '[tool.poetry.dependencies]\npython = ">=3.11,<3.12"\n'
        'cyaml = { path = "../cyaml" }\n'
    )
    locked = run_poetry(project, "lock")
    assert locked.returncode == 0, locked.output
    return project


def test_a_missing_header_is_named_with_its_package_and_the_setting_that_adds_it(
    base: Base, tmp_path: Path, image_tag: str
) -> None:
    """The failure names yaml.h, Debian's libyaml-dev and `build-apt-packages` (venv); with
    that setting the build passes on every manager, the runtime library (libyaml-0-2, found by
    Debian's naming of sonames) is added, and the header is not shipped."""
    project = yaml_extension(tmp_path)
    if base.manager == "venv":
        failed = run_poetry(project, "docker", "build", "--tag", image_tag, *base_options(base))
        assert failed.returncode != 0
        message = failed.stderr[failed.stderr.rindex("The image build failed") :]
        assert "the C header `yaml.h`" in message, failed.stderr
        assert 'build-apt-packages = ["libyaml-dev"]' in message, message
        assert "Traceback" not in failed.output
    configure(project, build_apt_packages=["libyaml-dev"])
    built = run_poetry(project, "docker", "build", "--tag", image_tag, *base_options(base))
    assert built.returncode == 0, built.output
    ran = docker("run", "--rm", image_tag, "python", "-c", "import cyaml; print(cyaml.version())")
    assert ran.stdout.strip().startswith("0.2."), ran.stdout
    shipped = "ls /usr/include/yaml.h 2>/dev/null; dpkg-query -W -f '${Status}' libyaml-0-2"
    found = docker("run", "--rm", "--entrypoint", "sh", image_tag, "-c", shipped).stdout
    assert found.strip() == "install ok installed", found


def test_a_python_the_conda_channels_lack_names_the_setting_on_a_terminal(
    conda_base_image: str, tmp_path: Path, image_tag: str
) -> None:
    """The project allows 3.12 and newer, the stand-in's channel holds 3.11 only: conda's
    PackagesNotFoundError gets the paragraph naming `python`, also when the engine draws its
    progress on a terminal (a pseudo-terminal here, through `script`)."""
    import shlex

    project = copy_fixture("flat-script", tmp_path)
    configure(project, env_manager=None, python=None, runtime_base=TEST_BASE_IMAGE)
    command = shlex.join(
        [
            POETRY,
            "--no-ansi",
            "docker",
            "build",
            "--base-image",
            conda_base_image,
            "--tag",
            image_tag,
        ]
    )
    failed = subprocess.run(
        ["script", "--quiet", "--return", "--command", command, "/dev/null"],
        cwd=project,
        env={**os.environ, "POETRY_DOCKER_ENGINE": DOCKER, "TERM": "xterm"},
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert failed.returncode != 0, failed.stdout
    said = failed.stdout.replace("\r", "")  # the terminal's output, stderr included
    assert "PackagesNotFoundError" in said
    assert re.search(r"The conda channels have no python 3\.1[2-9]", said), said[-3000:]
    assert "`python` in [tool.poetry-docker] or --python" in said
