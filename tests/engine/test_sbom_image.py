"""The SBOM every image carries: made in the image, valid CycloneDX, exactly what is installed.

The document is checked against the CycloneDX schema by cyclonedx-python-lib, and against what
``pip list`` and ``conda list`` say inside the built image.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import tomllib
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from packaging.utils import canonicalize_name

from poetry_docker_plugin.names import SBOM_LABEL, SBOM_PATH
from tests.conftest import (
    DOCKER,
    Base,
    LoggingEngine,
    add_secrets,
    configure,
    copy_fixture,
    docker,
    run_poetry,
)


def assert_valid(text: str) -> None:
    """The document validates against the CycloneDX 1.6 JSON schema."""
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, str(error)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (("--sbom", "pyproject.toml/sbom.json"), "--sbom"),
        (("--push", "--digest-file", "pyproject.toml/out/image.digest"), "--digest-file"),
        (("--push", "--digest-file", "hello_app"), "--digest-file"),
    ],
)
def test_an_output_file_under_a_file_is_refused_before_building(
    tmp_path: Path, logging_engine: LoggingEngine, options: tuple[str, ...], named: str
) -> None:
    """--sbom and --digest-file are checked before anything is built or pushed (a missing
    folder is made when the file is written: see the push and SBOM tests)."""
    project = copy_fixture("flat-script", tmp_path)
    result = run_poetry(
        project,
        "docker",
        "build",
        *options,
        env={"POETRY_DOCKER_ENGINE": str(logging_engine.path)},
    )
    assert result.returncode == 1
    target = project / options[-1]
    if target.is_dir():
        said = f"The {named} path {target} is a directory."
    else:
        said = f"The {named} path {target} lies under {project / 'pyproject.toml'}"
    assert said in result.stderr
    assert "Traceback" not in result.output
    assert logging_engine.calls() == []


def build(project: Path, base: Base, tag: str, *options: str) -> None:
    configure(project, **base.settings)
    result = run_poetry(project, "docker", "build", "--tag", tag, *options)
    assert result.returncode == 0, result.output


def pip_list(tag: str) -> set[tuple[str, str]]:
    listed = json.loads(
        docker("run", "--rm", tag, "python", "-m", "pip", "list", "--format", "json").stdout
    )
    return {(canonicalize_name(p["name"]), p["version"]) for p in listed}


def conda_list(tag: str, base: Base, prefix: str) -> list[dict[str, Any]]:
    """``conda list --json`` of the image's environment, by the conda of the conda base.

    The runtime stage has no conda: the environment's records (conda-meta) and site-packages
    are read from the image and listed by the base's conda at the same prefix.
    """
    python = docker("run", "--rm", tag, "python", "-c", "import sys; print(sys.version[:4])")
    site = f"lib/python{python.stdout.strip()}/site-packages"
    parent, name = prefix.rsplit("/", 1)
    script = (
        f"docker run --rm --entrypoint tar {tag} -C {parent} -c {name}/conda-meta {name}/{site} "
        f"| docker run --rm -i --entrypoint sh {base.image} -c "
        f"'mkdir -p {parent} && tar -x -C {parent} && conda list --prefix {prefix} --json'"
    )
    completed = subprocess.run(
        ["sh", "-c", script.replace("docker ", f"{DOCKER} ")],
        capture_output=True,
        text=True,
        check=True,
    )
    listed: list[dict[str, Any]] = json.loads(completed.stdout)
    return listed


def components_of(bom: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in bom["components"] if c["purl"].startswith(f"pkg:{kind}/")]


def test_the_sbom_lists_what_pip_and_conda_list(tmp_path: Path, base: Base, image_tag: str) -> None:
    project = copy_fixture("flat-script", tmp_path)
    add_secrets(project)
    target = tmp_path / "reports" / "sbom.cdx.json"  # a folder made when the file is written
    build(project, base, image_tag, "--sbom", str(target))
    text = target.read_text()
    assert_valid(text)
    bom = json.loads(text)

    labels = json.loads(docker("image", "inspect", image_tag).stdout)[0]["Config"]["Labels"]
    assert labels[SBOM_LABEL] == SBOM_PATH
    in_image = docker("run", "--rm", "--entrypoint", "cat", image_tag, labels[SBOM_LABEL])
    assert in_image.stdout == text, "--sbom writes the document the label names"

    subject = bom["metadata"]["component"]
    assert (subject["name"], subject["version"], subject["type"]) == (
        "hello-app",
        "0.3.1",
        "application",
    )
    pypi = components_of(bom, "pypi")
    listed = {(canonicalize_name(c["name"]), c["version"]) for c in pypi}
    assert listed | {("hello-app", "0.3.1")} == pip_list(image_tag)
    assert {"pip", "markupsafe", "packaging"} <= {name for name, _ in listed}

    # The hash is the lock's hash of the very wheel pip installed: for markupsafe the one for
    # the image's CPython 3.11 on this machine, for packaging the pure-Python one.
    files = {
        f["hash"]: f["file"]
        for package in tomllib.loads((project / "poetry.lock").read_text())["package"]
        for f in package["files"]
    }
    hashed = {
        c["name"].lower(): files[f"sha256:{c['hashes'][0]['content']}"]
        for c in pypi
        if c.get("hashes")
    }
    assert set(hashed) == {"markupsafe", "packaging"}
    assert re.fullmatch(
        rf"markupsafe-.*-cp311-cp311-.*manylinux.*_{platform.machine()}\.whl", hashed["markupsafe"]
    )
    assert hashed["packaging"].endswith("-py3-none-any.whl")

    for secret in ("hunter2", "PRIVATE KEY", ".env", "secrets"):
        assert secret not in text

    conda = components_of(bom, "conda")
    if base.manager == "venv":
        assert conda == []
        return
    entries = conda_list(image_tag, base, base.prefix("hello-app"))
    # conda list shows conda's packages and, with channel pypi, what pip installed: the conda
    # components are the former; the latter are the pypi components that no conda package
    # installed (pip, a conda package here, is both, its pypi record naming the conda one).
    assert {
        (c["name"], c["version"], PackageURL.from_string(c["purl"]).qualifiers["build"])
        for c in conda
    } == {(e["name"], e["version"], e["build_string"]) for e in entries if e["channel"] != "pypi"}
    from_pip = {(c["name"].lower(), c["version"]) for c in pypi if "properties" not in c}
    assert from_pip | {("hello-app", "0.3.1")} == {
        (canonicalize_name(e["name"]), e["version"]) for e in entries if e["channel"] == "pypi"
    }
    (pip,) = [c for c in pypi if c["name"] == "pip"]
    conda_pip = next(c for c in conda if c["name"] == "pip")
    assert pip["properties"] == [
        {"name": "poetry-docker:conda-package", "value": conda_pip["purl"]}
    ]
    assert {h["alg"] for h in conda_pip["hashes"]} == {"MD5", "SHA-256"}


def test_the_sbom_is_byte_identical_across_builds(
    tmp_path: Path, base: Base, image_tag: str, logging_engine: LoggingEngine
) -> None:
    project = copy_fixture("flat-script", tmp_path)
    first, second, third = (tmp_path / name for name in ("first.json", "second.json", "third"))
    build(project, base, image_tag, "--sbom", str(first))
    before = docker("image", "inspect", "--format", "{{.Id}}", image_tag).stdout
    build(project, base, image_tag, "--no-cache", "--sbom", str(second))
    after = docker("image", "inspect", "--format", "{{.Id}}", image_tag).stdout
    assert before != after, "a second build from scratch, not a cached one"
    assert first.read_bytes() == second.read_bytes()
    # Nothing changed: no build, and the same document, written anew.
    result = run_poetry(
        project,
        "docker",
        "build",
        "--tag",
        image_tag,
        "--sbom",
        str(third),
        env={"POETRY_DOCKER_ENGINE": str(logging_engine.path)},
    )
    assert result.returncode == 0, result.output
    assert "is up to date" in result.stderr
    assert logging_engine.builds() == []
    calls = [call.split()[0] for call in logging_engine.calls()]
    assert "create" in calls, "read from a container that is created"
    assert "run" not in calls and "start" not in calls, "and never started"
    assert third.read_bytes() == first.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".third")] == []
