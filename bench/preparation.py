"""Setting up what is measured: the venvs of Poetry with and without the plugin, the stand-in
base of poetry-dockerize, and the copies of the example project each row builds.

Nothing here is timed. What is slow (venvs, locks) is made once and reused across runs, keyed
by what it was made from.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import shutil
import sys
from pathlib import Path

import tomlkit
import tomllib
from packaging.markers import Marker
from tomlkit import TOMLDocument
from tomlkit.items import Array, Table

from bench.commands import image_exists, sh
from bench.config import (
    BASE_IMAGE,
    DOCKER,
    DOCKERIZE,
    EXTRA_PACKAGE,
    IMAGE,
    LARGE,
    LARGE_FILES,
    PYTHON,
    ROOT,
    SAMPLE,
    STAND_IN,
    VENV,
    WORK,
    Manager,
)

STAND_IN_DOCKERFILE = f"""\
FROM {BASE_IMAGE}
# Like the python images: a pip-enabled python first on PATH, no EXTERNALLY-MANAGED marker.
RUN python3 -m venv /usr/local
# Poetry inside the image uses requests: trust the test base image's CA bundle there too.
ENV REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
"""


def ensure_venv(name: str, *pip_arguments: str) -> Path:
    """A virtual environment under bench/work, created once, re-created if the pins change."""
    venv = WORK / name
    stamp = venv / "bench-requirements.txt"
    wanted = "\n".join(pip_arguments)
    if not stamp.is_file() or stamp.read_text() != wanted:
        print(f"setting up {venv}: {' '.join(pip_arguments)}", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        sh(sys.executable, "-m", "venv", venv)
        pip = venv / "bin" / "pip"
        sh(pip, "install", "--quiet", "--disable-pip-version-check", *pip_arguments)
        stamp.write_text(wanted)
    return venv


def plugin_pins() -> list[str]:
    """Poetry and the plugin's dependencies at the versions in .venv (this interpreter's)."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        declared: list[str] = tomllib.load(file)["project"]["dependencies"]
    names = ["poetry", *(re.split(r"[\s(<>=~!;\[]", spec, maxsplit=1)[0] for spec in declared)]
    return [f"{name}=={importlib.metadata.version(name)}" for name in dict.fromkeys(names)]


def shared_pins(venv: Path) -> Path:
    """The versions installed in ``venv``, but the plugin's, as a pip constraints file (named by
    its content, so that a change re-creates the venv that uses it): plain Poetry's venv gets
    the very versions of what it shares with the plugin's (filelock, cleo...), so that the two
    differ only by the plugin and what it alone pulls in."""
    frozen = sh(venv / "bin" / "pip", "freeze", "--exclude-editable").stdout
    lines = sorted(x for x in frozen.splitlines() if "==" in x and not x.startswith("poetry=="))
    text = "\n".join(lines) + "\n"
    path = WORK / f"constraints-{hashlib.sha256(text.encode()).hexdigest()[:12]}.txt"
    path.write_text(text)
    return path


def ensure_stand_in() -> None:
    """Builds the offline stand-in for poetry-dockerize's default base image, once."""
    if image_exists(STAND_IN):
        return
    context = WORK / "stand-in"
    context.mkdir(parents=True, exist_ok=True)
    (context / "Dockerfile").write_text(STAND_IN_DOCKERFILE)
    sh(DOCKER, "build", "--tag", STAND_IN, context)


def table(parent: TOMLDocument | Table, key: str) -> Table:
    """``parent[key]``, which must be a table: what an edit of the example's pyproject expects."""
    item = parent[key]
    if not isinstance(item, Table):
        raise TypeError(f"[{key}] is a {type(item).__name__}, not a table")
    return item


def edit_pyproject(project: Path) -> tuple[TOMLDocument, Path]:
    """The project's pyproject.toml, parsed with its formatting kept, and where to write it."""
    path = project / "pyproject.toml"
    return tomlkit.parse(path.read_text()), path


def copy_sample(target: Path, manager: Manager) -> Path:
    """A copy of the example project, set up for ``manager`` (see ``configure``)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", "dist", ".venv"))
    configure(target, manager)
    return target


def configure(project: Path, manager: Manager) -> None:
    """Names the manager, its base and the benchmark's own image name in the project's
    [tool.poetry-docker], rather than on every command line, so that ``build``, ``run`` and
    ``--output`` all see the same settings. The lock's content hash does not cover this table,
    so a prepared lock stays valid."""
    pyproject, path = edit_pyproject(project)
    settings = table(table(pyproject, "tool"), "poetry-docker")
    settings["image"] = manager.image
    settings["base-image"] = manager.base
    settings["env-manager"] = manager.name
    if manager.conda:
        settings["python"] = manager.conda.python
        settings["conda-packages"] = list(manager.conda.conda_packages)
    if manager.runtime_base:
        settings["runtime-base"] = manager.runtime_base
    path.write_text(tomlkit.dumps(pyproject))


def pins_for_image(context: Path) -> dict[str, str]:
    """The versions our image installs: the requirements files in its build context, the lines
    whose marker holds on PYTHON."""
    environment = {"python_version": PYTHON, "python_full_version": f"{PYTHON}.0"}
    pins = {}
    lines = [x for f in context.glob("requirements*.txt") for x in f.read_text().splitlines()]
    for line in lines:
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+)\s*(?:;([^\\]*))?", line)
        if match and (not match[3] or Marker(match[3]).evaluate(environment)):
            pins[canonical(match[1])] = match[2]
    return pins


def canonical(name: str) -> str:
    """A distribution name as the requirements files and pins compare it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def prepare(pins: dict[str, str]) -> tuple[Path, Path]:
    """Prepares, once per version of the example, the two projects that need a lock made here.

    Both need the lock workaround of design.md (PyPI's JSON API answers 404 here): the
    dependency-change variant adds one package and is locked by tests/fixtures/relock.py, then
    made to look like a default-PyPI project again; the poetry-dockerize copy is a
    ``[tool.poetry]``, flat-layout copy locked by Poetry 1.8.5, keeping the temporary source
    (pip's default index), because Poetry inside that plugin's image installs from the lock and
    meets the same 404 without it.
    """
    key = hashlib.sha256()
    for part in (SAMPLE / "pyproject.toml", SAMPLE / "poetry.lock"):
        key.update(part.read_bytes())
    key.update(repr((IMAGE, EXTRA_PACKAGE, DOCKERIZE, pins)).encode())
    prepared = WORK / f"prepared-{key.hexdigest()[:12]}"
    if not prepared.is_dir():
        print(f"preparing {prepared} (locks made once per version of the example)", flush=True)
        for stale in WORK.glob("prepared-*"):
            shutil.rmtree(stale)
        scratch = prepared.with_name(prepared.name + ".tmp")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        changed = copy_sample(scratch / "dependency-change", VENV)
        pyproject, path = edit_pyproject(changed)
        dependencies = table(pyproject, "project")["dependencies"]
        assert isinstance(dependencies, Array), dependencies
        dependencies.append(EXTRA_PACKAGE)
        path.write_text(tomlkit.dumps(pyproject))
        sh(sys.executable, ROOT / "tests" / "fixtures" / "relock.py", changed)
        make_dockerize_copy(scratch / "dockerize", pins)
        scratch.rename(prepared)
    return prepared / "dependency-change", prepared / "dockerize"


def make_dockerize_copy(target: Path, pins: dict[str, str]) -> None:
    """The example as poetry-dockerize 1.3.1 reads it: [tool.poetry] metadata, flat layout.

    It reads no [project] table and copies ``packages`` from the project root only. The direct
    dependencies are pinned to the versions our image installs, so both images hold the same
    numpy and pandas; python is the image's (numpy's newest needs 3.11 or later).
    """
    with (SAMPLE / "pyproject.toml").open("rb") as file:
        sample = tomllib.load(file)
    project, tool_poetry = sample["project"], sample["tool"]["poetry"]
    target.mkdir(parents=True)
    packages = []
    for entry in tool_poetry["packages"]:
        package = entry["include"]
        shutil.copytree(SAMPLE / entry.get("from", ".") / package, target / package)
        packages.append({"include": package})
    shutil.copy(SAMPLE / project["readme"], target / project["readme"])
    dependencies = {"python": f"~{PYTHON}"}
    for spec in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9._-]+", spec)
        assert name, spec
        dependencies[name[0]] = pins[canonical(name[0])]
    from pip._internal.models.index import PyPI  # pip's default index: no host name written here

    written = tomlkit.dumps(
        {
            "tool": {
                "poetry": {
                    "name": project["name"],
                    "version": project["version"],
                    "description": project["description"],
                    "authors": [f"{a['name']} <{a['email']}>" for a in project["authors"]],
                    "license": project["license"],
                    "readme": project["readme"],
                    "packages": packages,
                    "dependencies": dependencies,
                    "scripts": project.get("scripts", {}),
                    "group": tool_poetry.get("group", {}),
                    "source": [
                        {"name": "bench-index", "url": PyPI.simple_url, "priority": "primary"}
                    ],
                }
            },
            "build-system": {
                "requires": ["poetry-core>=1.0.0"],
                "build-backend": "poetry.core.masonry.api",
            },
        },
    )
    (target / "pyproject.toml").write_text(written)
    sh(WORK / "poetry18" / "bin" / "poetry", "lock", "--no-interaction", cwd=target)


def make_large_copy(target: Path) -> Path:
    """The example with LARGE_FILES more small modules in its package (100 per folder)."""
    project = copy_sample(target, LARGE)
    generated = project / "src" / "sample_app" / "generated"
    for number in range(LARGE_FILES):
        folder = generated / f"part{number // 100:03d}"
        if number % 100 == 0:
            folder.mkdir(parents=True)
        (folder / f"module{number % 100:02d}.py").write_text(f"VALUE = {number}\n")
    return project
