"""The SBOM every image carries: made in the image, valid CycloneDX, exactly what is installed.

The document is checked against the CycloneDX schema by cyclonedx-python-lib, and against what
``pip list`` and ``conda list`` say inside the built image.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from poetry.factory import Factory

from poetry_docker_plugin.names import SBOM_INPUTS_FILE as INPUTS_FILE
from poetry_docker_plugin.names import SBOM_PATH
from poetry_docker_plugin.project.settings import Settings
from poetry_docker_plugin.render.resources import write_sbom as image_sbom
from poetry_docker_plugin.render.sbom_inputs import inputs_text
from tests.conftest import (
    Base,
    configure,
    copy_fixture,
    plan_from_poetry,
    poetry_in_process,
)

LOCKED_FILES = {
    "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl": "sha256:" + "a" * 64,
    "demo-1.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl": "sha256:" + "b" * 64,
    "demo-1.0-py3-none-any.whl": "sha256:" + "c" * 64,
    "demo-1.0.tar.gz": "sha256:" + "d" * 64,
}


X86_WHEEL = (
    "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n"
    "Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n"
)


def assert_valid(text: str) -> None:
    """The document validates against the CycloneDX 1.6 JSON schema."""
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, str(error)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("pypi", "Foo_Bar", "1.0+local.1"), PackageURL("pypi", None, "foo-bar", "1.0+local.1")),
        (
            ("conda", "pip", "25.1", {"subdir": "noarch", "build": "py_0", "channel": "c-f"}),
            PackageURL(
                "conda",
                None,
                "pip",
                "25.1",
                {"build": "py_0", "channel": "c-f", "subdir": "noarch"},
            ),
        ),
    ],
)
def test_purls_are_what_packageurl_parses(arguments: tuple[Any, ...], expected: PackageURL) -> None:
    text = image_sbom.purl(*arguments)
    assert PackageURL.from_string(text) == expected
    assert text == expected.to_string(), "qualifiers sorted, values encoded as the spec says"


def test_the_hash_is_the_lock_hash_of_the_installed_wheel() -> None:
    assert image_sbom.installed_file_hashes(X86_WHEEL, LOCKED_FILES) == [
        {"alg": "SHA-256", "content": "a" * 64}
    ]
    pure = "Wheel-Version: 1.0\nTag: py3-none-any\n"
    assert image_sbom.installed_file_hashes(pure, LOCKED_FILES)[0]["content"] == "c" * 64


@pytest.mark.parametrize(
    "wheel", [None, "Wheel-Version: 1.0\nTag: cp312-cp312-manylinux_2_17_x86_64\n"]
)
def test_a_package_built_in_the_image_gets_no_hash_of_another_file(wheel: str | None) -> None:
    """Built from its sdist (WHEEL names a tag no locked wheel has), or no WHEEL at all."""
    assert image_sbom.installed_file_hashes(wheel, LOCKED_FILES) == []


@pytest.mark.parametrize(
    ("channel", "subdir", "expected"),
    [
        ("https://conda.anaconda.org/conda-forge/linux-64", "linux-64", "conda-forge"),
        ("https://conda.anaconda.org/t/tk-123/private/noarch", "noarch", "private"),
        (
            "https://reader:s3cret@conda.example.com:8443/t/tk-9/chan/noarch",
            "noarch",
            "https://conda.example.com:8443/chan",
        ),
        (
            "file:///opt/conda-channel/conda-forge/noarch",
            "noarch",
            "file:///opt/conda-channel/conda-forge",
        ),
        ("conda-forge", "noarch", "conda-forge"),
    ],
)
def test_channels_are_named_without_subdir_or_credentials(
    channel: str, subdir: str, expected: str
) -> None:
    assert image_sbom.channel_name(channel, subdir) == expected


def test_pip_list_order_and_conda_ownership_are_kept() -> None:
    """The first distribution of a name on sys.path wins, as in pip list; a conda package's
    distribution names it."""
    components = image_sbom.python_components(
        [
            ("Demo", "1.0", X86_WHEEL, "lib/python3.11/site-packages/demo-1.0.dist-info"),
            ("demo", "0.9", None, "elsewhere/demo-0.9.dist-info"),
            ("pip", "25.1", None, "lib/python3.11/site-packages/pip-25.1.dist-info"),
        ],
        {"demo": {"1.0": LOCKED_FILES}},
        {"lib/python3.11/site-packages/pip-25.1.dist-info": "pkg:conda/pip@25.1"},
    )
    assert [(c["name"], c["version"]) for c in components] == [("Demo", "1.0"), ("pip", "25.1")]
    assert components[0]["hashes"] == [{"alg": "SHA-256", "content": "a" * 64}]
    assert components[1]["properties"] == [
        {"name": "poetry-docker:conda-package", "value": "pkg:conda/pip@25.1"}
    ]


def sample_document(**changes: Any) -> dict[str, Any]:
    inputs = {
        "project": {"name": "hello-app", "version": "0.3.1", "package_mode": True},
        "tool": {"name": "poetry-docker-plugin"},
        "environment": {"manager": "conda", "prefix": "/opt/conda/envs/hello-app"},
    }
    pypi = [("pip", "25.1", None, None), ("hello-app", "0.3.1", None, None)]
    pypi += changes.get("extra", [])
    record = {"name": "python", "version": "3.11.2", "build": "h_0", "subdir": "linux-64"}
    record |= {
        "channel": "https://conda.anaconda.org/conda-forge/linux-64",
        "md5": "0" * 32,
        "sha256": "1" * 64,
    }
    components = image_sbom.python_components(pypi, {}, {})
    components += image_sbom.conda_components([record])
    return image_sbom.document(inputs, list(reversed(components)), "3.11.2")


def test_the_document_is_valid_stable_and_serialised_by_its_content() -> None:
    text = image_sbom.dumps(sample_document())
    assert_valid(text)
    assert text == image_sbom.dumps(sample_document()), "same content, same bytes"
    bom = json.loads(text)
    assert [c["purl"] for c in bom["components"]] == sorted(c["purl"] for c in bom["components"])
    assert bom["metadata"]["component"]["purl"] == "pkg:pypi/hello-app@0.3.1"
    assert "hello-app" not in [c["name"] for c in bom["components"]], "the subject, not a part"
    assert "timestamp" not in bom["metadata"]
    other = sample_document(extra=[("six", "1.17.0", None, None)])
    assert other["serialNumber"] != bom["serialNumber"]


def test_the_inputs_hold_the_lock_hashes_and_no_url(tmp_path: Path) -> None:
    """Nothing that could carry a credential (an index or channel URL) reaches the inputs."""
    project = copy_fixture("flat-script", tmp_path)
    poetry = Factory().create_poetry(project)
    plan = plan_from_poetry(poetry, Settings(), ["main"], platform="linux/amd64")
    text = inputs_text(plan)
    inputs = json.loads(text)
    lock = (project / "poetry.lock").read_text()
    for versions in inputs["locked"].values():
        for files in versions.values():
            for name, digest in files.items():
                assert f'{{file = "{name}", hash = "{digest}"}}' in lock
    assert set(inputs["locked"]) == {"markupsafe", "packaging"}
    assert "://" not in text
    assert inputs_text(plan) == text


@pytest.mark.parametrize("options", [["--print"], ["--output", "out"]])
def test_sbom_without_an_image_is_refused(tmp_path: Path, options: list[str]) -> None:
    project = copy_fixture("flat-script", tmp_path)
    result = poetry_in_process(project, "docker", "build", *options, "--sbom", "sbom.json")
    assert result.returncode == 1
    assert "--sbom writes the SBOM of the built image" in result.stderr
    assert "Traceback" not in result.output
    assert not (project / "out").exists()


def build(project: Path, base: Base, tag: str, *options: str) -> None:
    configure(project, **base.settings)
    result = poetry_in_process(project, "docker", "build", "--tag", tag, *options)
    assert result.returncode == 0, result.output


@pytest.mark.parametrize("name", ["monorepo/app", "sdist-only", "flat-script", "no-package"])
def test_the_sbom_step_follows_every_dependency_and_precedes_the_project(name: str) -> None:
    """It sees every installed package, and a source edit (the project's step) does not redo it."""
    from tests.unit.render.test_dockerfile import instructions, rendered

    steps = instructions(rendered(name).dockerfile)
    (sbom,) = [
        i for i, step in enumerate(steps) if f"sbom.py /tmp/poetry-docker/{INPUTS_FILE}" in step
    ]
    installs = [i for i, step in enumerate(steps) if " pip install " in step]
    project = [i for i in installs if "/tmp/poetry-docker/dist " in steps[i]]
    sources = [i for i, step in enumerate(steps) if step.startswith("COPY project/")]
    assert installs
    assert all(i < sbom for i in installs if i not in project)
    assert all(sbom < i for i in project + sources)
    assert steps[sbom].endswith(f" {SBOM_PATH}")
