"""Layers that follow change: a bump of one small dependency changes one layer of the image.

The fixture's two locks differ in PyYAML alone (6.0.2, then 6.0.4); six small packages fall
into four groups. Two builds on the venv test base (about 25 s with a warm pip cache).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import tomllib
from packaging.utils import canonicalize_name

from poetry_docker_plugin.names import SBOM_PATH
from poetry_docker_plugin.plan.layers import bucket_of
from poetry_docker_plugin.render.dockerfile import without_input_digests
from tests.conftest import configure, copy_fixture, docker, run_poetry

# What `docker history` lists without a layer of its own.
METADATA = ("ENV ", "LABEL ", "USER ", "CMD ", "ENTRYPOINT ", "EXPOSE ")
GROUP_COPY = "COPY /layer/ / "


def layers(tag: str) -> list[tuple[str, str]]:
    """(step, layer digest) of each layer of the image, oldest first."""
    digests = json.loads(docker("image", "inspect", tag).stdout)[0]["RootFS"]["Layers"]
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", tag).stdout
    steps = [s for s in reversed(history.splitlines()) if not s.startswith(METADATA)]
    assert len(steps) == len(digests), (steps, digests)
    return list(zip(steps, digests, strict=True))


def lock_versions(project: Path) -> dict[str, str]:
    lock = tomllib.loads((project / "poetry.lock").read_text())
    return {str(canonicalize_name(p["name"])): p["version"] for p in lock["package"]}


def assert_agrees_with_the_lock(project: Path, tag: str) -> None:
    """pip check passes; pip list and the SBOM name the lock's versions (and the project,
    and the environment's own pip and setuptools)."""
    checked = docker("run", "--rm", tag, "python", "-m", "pip", "check", check=False)
    assert checked.returncode == 0, checked.output
    listed = json.loads(
        docker("run", "--rm", tag, "python", "-m", "pip", "list", "--format", "json").stdout
    )
    installed: dict[str, str] = {canonicalize_name(p["name"]): p["version"] for p in listed}
    locked = lock_versions(project)
    assert {name: installed[name] for name in locked} == locked
    assert set(installed) - set(locked) == {"layers-bump", "pip", "setuptools"}
    bom = json.loads(docker("run", "--rm", "--entrypoint", "cat", tag, SBOM_PATH).stdout)
    in_bom: dict[str, str] = {
        canonicalize_name(c["name"]): c["version"]
        for c in bom["components"]
        if c["purl"].startswith("pkg:pypi/")
    }
    assert in_bom == {name: v for name, v in installed.items() if name != "layers-bump"}
    ran = docker("run", "--rm", tag)  # the console script, from its group's layer
    assert ran.stdout.split()[-1] == locked["pyyaml"]


def test_a_bump_of_one_small_dependency_changes_only_its_group_layer(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    project = copy_fixture("layers-bump", tmp_path)
    configure(project, base_image=base_image)
    before_tag, after_tag = image_tag, image_tag.replace(":test", ":bumped")
    built = run_poetry(project, "docker", "build", "--tag", before_tag)
    assert built.returncode == 0, built.output
    assert_agrees_with_the_lock(project, before_tag)

    shutil.copy(project / "poetry-bumped.lock", project / "poetry.lock")
    assert lock_versions(project)["pyyaml"] == "6.0.4"
    built = run_poetry(project, "docker", "build", "--tag", after_tag)
    assert built.returncode == 0, built.output
    assert_agrees_with_the_lock(project, after_tag)

    before, after = layers(before_tag), layers(after_tag)
    steps = [without_input_digests(step) for step, _ in before]
    assert steps == [without_input_digests(step) for step, _ in after]
    groups = [i for i, (step, _) in enumerate(before) if step.startswith(GROUP_COPY)]
    buckets = sorted({bucket_of(name) for name in lock_versions(project)})
    assert len(groups) == len(buckets) == 4
    changed = [i for i in groups if before[i][1] != after[i][1]]
    assert changed == [groups[buckets.index(bucket_of("pyyaml"))]], (before, after)
    # Nothing below the groups changed: the base, the environment, the entrypoint, the user.
    assert before[: groups[0]] == after[: groups[0]]
