"""Setting up the bytes-pushed rows, nothing timed: the lock changes they build (each package
bumped to its previous release), for our copy of bench/projects/layers-app and for
poetry-dockerize's, made once per version of the project and kept under bench/work.

A bump changes the lock alone, as ``poetry update`` does within the project's ranges: the
package is pinned below its locked version for one ``poetry lock`` (which keeps every other
locked version), then the project's own pyproject.toml is put back and the lock given its
content hash again. The small bump is made from the project's lock, the large one on top of
it, so that the rows can build them one after the other, each a change of one package.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tomlkit
import tomllib
from tomlkit.items import Array

from bench.commands import sh
from bench.config import DOCKERIZE, LARGE_BUMP, LAYERS_PROJECT, PYTHON, ROOT, SMALL_BUMP, WORK
from bench.preparation import canonical, edit_pyproject, table

BUMPS = (SMALL_BUMP, LARGE_BUMP)


@dataclass(frozen=True)
class PreparedBumps:
    """Where the prepared locks are, and what they change."""

    folder: Path  # dockerize/ (its project), and ours-locks/, dockerize-locks/
    versions: dict[str, tuple[str, str]]  # package -> (locked version, bumped-to version)

    def lock(self, tool: str, package: str) -> Path:
        """The lock of ``tool`` ("ours" or "dockerize") with the bumps up to ``package``."""
        return self.folder / f"{tool}-locks" / f"bumped-{package}.lock"

    @property
    def dockerize_project(self) -> Path:
        return self.folder / "dockerize"

    def describe(self) -> str:
        return ", ".join(f"{name} {old} -> {new}" for name, (old, new) in self.versions.items())


def locked_versions(lock: Path) -> dict[str, str]:
    """Every locked package's version, by canonical name."""
    packages = tomllib.loads(lock.read_text())["package"]
    return {canonical(package["name"]): package["version"] for package in packages}


def prepare_bumps() -> PreparedBumps:
    """The bumped locks, made once per version of the project (keyed by its files)."""
    key = hashlib.sha256()
    for name in ("pyproject.toml", "poetry.lock"):
        key.update((LAYERS_PROJECT / name).read_bytes())
    key.update(repr((BUMPS, DOCKERIZE, PYTHON)).encode())
    prepared = WORK / f"bumps-{key.hexdigest()[:12]}"
    if not prepared.is_dir():
        print(f"preparing {prepared} (the bumped locks, once per version)", flush=True)
        for stale in WORK.glob("bumps-*"):
            shutil.rmtree(stale)
        scratch = prepared.with_name(prepared.name + ".tmp")
        shutil.rmtree(scratch, ignore_errors=True)
        for tool in ("ours", "dockerize"):
            (scratch / f"{tool}-locks").mkdir(parents=True)
        bump_chain(scratch / "ours", LAYERS_PROJECT, scratch / "ours-locks", relock_ours)
        make_dockerize_layers(scratch / "dockerize")
        bump_chain(
            scratch / "dockerize-scratch",
            scratch / "dockerize",
            scratch / "dockerize-locks",
            relock_dockerize,
        )
        for used in ("ours", "dockerize-scratch"):
            shutil.rmtree(scratch / used)
        scratch.rename(prepared)
    ours = locked_versions(LAYERS_PROJECT / "poetry.lock")
    bumps = PreparedBumps(prepared, {})
    bumped = locked_versions(bumps.lock("ours", LARGE_BUMP))
    return PreparedBumps(prepared, {name: (ours[name], bumped[name]) for name in BUMPS})


def bump_chain(
    scratch: Path, project: Path, into: Path, relock: Callable[[Path, str, str], None]
) -> None:
    """Each package of BUMPS pinned below its locked version in turn, on top of the previous
    bump, into ``into/bumped-NAME.lock``; each must change that one package and nothing else."""
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(project, scratch)
    original = (project / "pyproject.toml").read_text()
    content_hash = tomllib.loads((project / "poetry.lock").read_text())["metadata"]["content-hash"]
    for name in BUMPS:
        before = locked_versions(scratch / "poetry.lock")
        relock(scratch, name, before[name])
        (scratch / "pyproject.toml").write_text(original)
        lock = tomlkit.parse((scratch / "poetry.lock").read_text())
        lock["metadata"]["content-hash"] = content_hash
        (scratch / "poetry.lock").write_text(tomlkit.dumps(lock))
        after = locked_versions(scratch / "poetry.lock")
        changed = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
        if changed != {name}:
            raise RuntimeError(f"pinning {name} below {before[name]} changed {sorted(changed)}")
        shutil.copy(scratch / "poetry.lock", into / f"bumped-{name}.lock")


def relock_ours(project: Path, name: str, version: str) -> None:
    """Our copy: the pin added to [project] dependencies, locked by tests/fixtures/relock.py
    (the workaround for PyPI's per-version JSON API, design.md), which keeps the rest."""
    pyproject, path = edit_pyproject(project)
    dependencies = table(pyproject, "project")["dependencies"]
    assert isinstance(dependencies, Array), dependencies
    dependencies.append(f"{name} (<{version})")
    path.write_text(tomlkit.dumps(pyproject))
    sh(sys.executable, ROOT / "tests" / "fixtures" / "relock.py", project)


def relock_dockerize(project: Path, name: str, version: str) -> None:
    """poetry-dockerize's copy: the pin narrowed in [tool.poetry.dependencies], locked by
    Poetry 1.8.5 without updating the rest."""
    pyproject, path = edit_pyproject(project)
    dependencies = table(table(table(pyproject, "tool"), "poetry"), "dependencies")
    dependencies[name] = f"{dependencies[name]},<{version}"
    path.write_text(tomlkit.dumps(pyproject))
    sh(WORK / "poetry18" / "bin" / "poetry", "lock", "--no-update", "--no-interaction", cwd=project)


def make_dockerize_layers(target: Path) -> None:
    """The project as poetry-dockerize 1.3.1 reads it ([tool.poetry] metadata; the package is
    at the root already), the same ranges, locked by Poetry 1.8.5 keeping the temporary source
    (pip's default index: Poetry inside its image installs from the lock, design.md)."""
    project = tomllib.loads((LAYERS_PROJECT / "pyproject.toml").read_text())["project"]
    target.mkdir(parents=True)
    shutil.copytree(LAYERS_PROJECT / "layers_app", target / "layers_app")
    shutil.copy(LAYERS_PROJECT / project["readme"], target / project["readme"])
    dependencies = {"python": f"~{PYTHON}"}
    for spec in project["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9._-]+) \((.+)\)", spec)
        assert match, spec
        dependencies[canonical(match[1])] = match[2]
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
                    "packages": [{"include": "layers_app"}],
                    "dependencies": dependencies,
                    "scripts": project["scripts"],
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
