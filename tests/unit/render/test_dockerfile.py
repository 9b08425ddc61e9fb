"""Render: golden files for the conda path, linters for every manager, and safe quoting."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from poetry.factory import Factory

from poetry_docker_plugin.plan.model import BaseImage, HostUser
from poetry_docker_plugin.project.settings import Settings, load_settings
from poetry_docker_plugin.render.dockerfile import (
    INPUTS_MARKER,
    RenderedFiles,
    dockerfile_word,
    render,
)
from poetry_docker_plugin.sources.digests import SourceDigests
from tests.conftest import FIXTURES, plan_from_poetry

GOLDEN = Path(__file__).parent / "golden"
# Every fixture project: each pins its conda files and passes the linters.
BUILT_FIXTURES = sorted(
    path.parent.relative_to(FIXTURES).as_posix()
    for path in [*FIXTURES.glob("*/pyproject.toml"), *FIXTURES.glob("*/app/pyproject.toml")]
)
HADOLINT = str(Path(sys.executable).parent / "hadolint")
# Digests of the project's files, fixed: the golden files pin the templates, not the fixtures.
SOURCES = SourceDigests(
    *(hashlib.sha256(kind.encode()).hexdigest() for kind in ("project", "in", "wheels", "src"))
)


def probe(reference: str, manager: str) -> BaseImage:
    """The base image as the engine would see it: python.org images have their tag's Python."""
    return BaseImage(reference, python=None if "python:" in reference else "3.11")


def rendered(name: str, sources: SourceDigests = SOURCES, **overrides: object) -> RenderedFiles:
    poetry = Factory().create_poetry(FIXTURES / name)
    table = poetry.pyproject.data.get("tool", {}).get("poetry-docker")
    settings = load_settings(table, poetry.pyproject_path).override(**overrides)
    groups = ["main", "dev"] if name == "groups-extras" else ["main"]
    plan = plan_from_poetry(poetry, settings, groups, platform="linux/amd64", probe_base=probe)
    return render(plan, sources)


@pytest.mark.parametrize("name", BUILT_FIXTURES)
def test_conda_files_match_the_golden_files(name: str) -> None:
    files = rendered(
        name, env_manager="conda", extras=("fast",) if name == "groups-extras" else None
    )
    assert_golden(GOLDEN / name, files)


def assert_golden(directory: Path, files: RenderedFiles) -> None:
    """The files equal the pinned ones (UPDATE_GOLDEN=1 rewrites them, for a reviewed change)."""
    for file_name in ("Dockerfile", "entrypoint.sh", "activate.sh"):
        text = files.files()[file_name]
        golden = directory / file_name
        if os.environ.get("UPDATE_GOLDEN") == "1":
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text)
        assert text == golden.read_text(), (
            f"{golden} differs: rerun with UPDATE_GOLDEN=1 if intended"
        )


@pytest.mark.parametrize("manager", ["conda", "micromamba"])
def test_conda_environments_as_a_reader_checks_them(manager: str) -> None:
    """What makes a conda or micromamba Dockerfile right, beside its golden file.

    Micromamba cannot be run here (no binary can be had), so these properties and the golden
    file are all that stands for it.
    """
    files = rendered("flat-script", env_manager=manager, conda_packages=("actdemo",))
    if manager == "micromamba":
        assert_golden(GOLDEN / "micromamba" / "flat-script", files)
    dockerfile, prefix = files.dockerfile, "/opt/conda/envs/hello-app"
    lines = dockerfile.splitlines()
    # the environment is created where the image's variables say it is, with tini for PID 1
    create = next(line for line in lines if f"{manager} create" in line)
    assert f"--prefix {prefix} " in create
    after = lines[lines.index(create) :]
    packages = next(line for line in after if line.strip().startswith("python=")).split()
    assert packages[:2] == ["python=3.14", "pip"] and "actdemo" in packages
    assert ("tini" in packages) == (manager == "micromamba"), "micromamba bases have no tini"
    assert f'ENV PATH="{prefix}/bin:$PATH"' in dockerfile
    assert f'    CONDA_PREFIX="{prefix}" \\' in lines
    # build steps as root (micromamba images default to a user), the runtime not
    if manager == "micromamba":
        start = lines.index(next(line for line in lines if line.startswith("FROM"))) + 1
        first = next(line for line in lines[start:] if line and not line.startswith("#"))
        assert first == "USER 0"
    assert lines[-3] == "USER 10001"
    # the entrypoint runs no conda: it sources the activation, which sources activate.d
    assert "conda" not in files.entrypoint and manager not in files.entrypoint
    assert ". /usr/local/share/poetry-docker/activate.sh" in files.entrypoint
    assert f"for script in {prefix}/etc/conda/activate.d/*.sh" in files.activate


@pytest.mark.parametrize("manager", ["conda", "micromamba", "venv"])
@pytest.mark.parametrize("name", BUILT_FIXTURES)
def test_generated_files_pass_hadolint_and_shellcheck(
    name: str, manager: str, tmp_path: Path
) -> None:
    files = rendered(
        name, env_manager=manager, apt_packages=("libgomp1",), conda_packages=("gdal>=3.8",)
    )
    assert_hadolint_clean(files.dockerfile, tmp_path)
    (tmp_path / "entrypoint.sh").write_text(files.entrypoint)
    (tmp_path / "activate.sh").write_text(files.activate)
    shellcheck_path = shutil.which("shellcheck")
    assert shellcheck_path, "shellcheck is not installed (scripts/dev installs it from Debian)"
    shellcheck = subprocess.run(
        [
            shellcheck_path,
            "--severity=style",
            "--shell=sh",
            str(tmp_path / "entrypoint.sh"),
            str(tmp_path / "activate.sh"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shellcheck.returncode == 0, shellcheck.stdout + shellcheck.stderr


def test_rendering_twice_gives_identical_bytes() -> None:
    assert rendered("flat-script") == rendered("flat-script")


def instructions(dockerfile: str) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    return dockerfile.replace("\\\n", " ").splitlines()


@pytest.mark.parametrize("name", BUILT_FIXTURES)
def test_every_step_that_mounts_files_names_their_digest(name: str) -> None:
    """buildah (podman) caches a RUN step on its text alone, so the text names what it mounts."""
    files = rendered(name)
    mounting = [line for line in instructions(files.dockerfile) if "--mount=type=bind" in line]
    assert mounting
    for step in mounting:
        marker = INPUTS_MARKER.search(step)
        assert marker, f"no digest in {step}"
        mounted = re.search(r"--mount=type=bind,source=(requirements[-a-z]*\.txt)", step)
        if mounted:  # a requirements file: the digest of its text
            digest = hashlib.sha256(files.files()[mounted.group(1)].encode()).hexdigest()
            assert marker.group(0) == f": inputs={digest[:12]} && "


def test_a_source_edit_changes_only_the_steps_that_mount_the_project() -> None:
    edited = dataclasses.replace(SOURCES, project=hashlib.sha256(b"edited").hexdigest())
    before = instructions(rendered("monorepo/app").dockerfile)
    after = instructions(rendered("monorepo/app", sources=edited).dockerfile)
    changed = [old for old, new in zip(before, after, strict=True) if old != new]
    assert len(changed) == 1
    assert "--mount=type=bind,source=dist," in changed[0]


def test_layers_run_from_base_to_labels() -> None:
    dockerfile = rendered("flat-script", env_manager="conda", apt_packages=("curl",)).dockerfile
    steps = [
        "FROM ",
        "conda create",
        "apt-get install",
        "COPY entrypoint.sh",
        "COPY --from=layer-",
        "--find-links",
        "LABEL",
        "CMD",
    ]
    positions = [dockerfile.index(step) for step in steps]
    assert positions == sorted(positions)


def test_values_cannot_escape_their_instruction() -> None:
    hostile = '$(id) `id` "quoted" back\\slash ${HOME}'
    files = rendered(
        "flat-script",
        env=(("GREETING", hostile),),
        labels=(("org.example.note", hostile),),
        command=("echo", hostile, "a\nb"),
    )
    assert 'ENV GREETING="\\$(id) `id` \\"quoted\\" back\\\\slash \\${HOME}"' in files.dockerfile
    assert '"org.example.note"="\\$(id)' in files.dockerfile
    assert (
        'CMD ["echo", "$(id) `id` \\"quoted\\" back\\\\slash ${HOME}", "a\\nb"]' in files.dockerfile
    )
    instructions = [
        line.split()[0] for line in files.dockerfile.splitlines() if line and line[0].isupper()
    ]
    # environment, two stages of groups of wheels; in the runtime stage tini, user, the
    # library check, SBOM, project
    assert instructions.count("RUN") == 8


def test_dockerfile_word() -> None:
    assert dockerfile_word('a "b" $c \\d') == '"a \\"b\\" \\$c \\\\d"'


def test_the_development_image_has_an_account_for_the_host_user(tmp_path: Path) -> None:
    poetry = Factory().create_poetry(FIXTURES / "flat-script")
    plan = plan_from_poetry(
        poetry, Settings(), ["main"], editable=True, host_user=HostUser(4242, 4243, "ada")
    )
    dockerfile = render(plan, SOURCES).dockerfile
    assert "groupadd --gid 4243 ada" in dockerfile
    assert "useradd --create-home --uid 4242 --gid 4243 --shell /bin/bash ada" in dockerfile
    assert dockerfile.splitlines()[-3] == "USER 4242:4243"
    (tmp_path / "Dockerfile").write_text(dockerfile)
    hadolint = subprocess.run(
        [HADOLINT, "--failure-threshold", "style", "--no-color", str(tmp_path / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert hadolint.returncode == 0, hadolint.stdout
    root = plan_from_poetry(
        poetry, Settings(), ["main"], editable=True, host_user=HostUser(0, 0, "root")
    )
    assert render(root, SOURCES).dockerfile.splitlines()[-3] == "USER 0"


def test_groups_are_copied_with_link_only_where_the_engine_takes_it() -> None:
    """Docker 20.10's built-in frontend refuses ``COPY --link``: it is written only when the
    plan says the engine has it, on every group's COPY and nowhere else."""
    poetry = Factory().create_poetry(FIXTURES / "layers-bump")
    plan = plan_from_poetry(poetry, Settings(), ["main"], platform="linux/amd64", probe_base=probe)
    plain = render(plan, SOURCES).dockerfile
    layers = dataclasses.replace(plan.dependencies.layers, copy_link=True)
    linked_plan = dataclasses.replace(
        plan, dependencies=dataclasses.replace(plan.dependencies, layers=layers)
    )
    linked = render(linked_plan, SOURCES).dockerfile
    stages = [g.stage for g in plan.dependencies.layers.groups]
    assert len(stages) == 4
    assert "--link" not in plain
    for stage in stages:
        assert f"COPY --from={stage} /layer/ /\n" in plain
        assert f"COPY --link --from={stage} /layer/ /\n" in linked
        assert f"FROM environment AS {stage}\n" in plain
    assert linked.count("COPY --link ") == len(stages)


def test_groups_for_another_platform_are_installed_on_the_build_platform() -> None:
    """The groups' stages start FROM --platform=$BUILDPLATFORM, download the target's wheels
    and unpack them with the installer script; no marker is left for the build's pip."""
    from poetry_docker_plugin.plan.layers import cross_install

    poetry = Factory().create_poetry(FIXTURES / "layers-bump")
    plan = plan_from_poetry(poetry, Settings(), ["main"], platform="linux/arm64", probe_base=probe)
    environment = plan.environment
    layers, why = cross_install(
        plan.dependencies.layers,
        environment.target,
        environment.prefix,
        "linux/amd64",
        environment.python,
    )
    assert why == ""
    crossed = dataclasses.replace(
        plan, dependencies=dataclasses.replace(plan.dependencies, layers=layers)
    )
    files = render(crossed, SOURCES)
    dockerfile = files.dockerfile
    assert dockerfile.count("FROM --platform=$BUILDPLATFORM ") == 1
    for group in layers.groups:
        assert f"FROM wheel-installer AS {group.stage}\n" in dockerfile
        assert f"COPY --from={group.stage} /layer/ /\n" in dockerfile
        assert " ; " not in files.files()[group.file]
    assert "--platform manylinux_2_36_aarch64 " in dockerfile
    python = environment.python
    assert f"--python-version {python} --abi cp{python.replace('.', '')}" in dockerfile
    assert f"install_wheels.py --prefix {environment.prefix} --python {python}" in dockerfile
    assert {"install_wheels.py", "installer-requirements.txt"} <= set(files.files())
    assert "FROM environment AS layer-" not in dockerfile
    assert "--platform manylinux" not in render(plan, SOURCES).dockerfile


def stages_of(dockerfile: str) -> dict[str, tuple[bool, list[str]]]:
    """Each stage by name (the last one ""): whether it runs on the build platform (it starts
    FROM --platform=$BUILDPLATFORM, or from a stage that does), and its instructions."""
    stages: dict[str, tuple[bool, list[str]]] = {}
    name = ""
    for line in dockerfile.splitlines():
        if line.startswith("FROM "):
            words = line.split()
            native = words[1] == "--platform=$BUILDPLATFORM"
            parent = words[2] if native else words[1]
            name = words[-1] if words[-2] == "AS" else ""
            stages[name] = (native or stages.get(parent, (False, []))[0], [])
        elif line and not line.startswith((" ", "#")) and stages:
            stages[name][1].append(line.split()[0])
    return stages


def test_the_target_stages_of_a_build_whose_base_has_a_twin_only_copy(tmp_path: Path) -> None:
    """For another platform, with the base's variant for the build platform: every stage on
    the target's platform holds no RUN (nothing of the target runs), and the native stages
    make the venv, the account, the checks and the project's wheel; the files lint clean."""
    from poetry_docker_plugin.plan.cross import native_steps
    from tests.unit.plan.test_cross import arm64_plan, twin

    plan = arm64_plan()
    steps, _ = native_steps(plan, twin())
    files = render(dataclasses.replace(plan, native=steps), SOURCES)
    assert_golden(GOLDEN / "cross-arm64" / "layers-bump", files)
    stages = stages_of(files.dockerfile)
    target = {name: kinds for name, (native, kinds) in stages.items() if not native}
    assert set(target) == {"target-base", "environment", "assembled", ""}
    assert all("RUN" not in kinds for kinds in target.values()), target
    assert {"environment-files", "wheel-installer", "project-files", "checked"} <= set(stages)
    assert "python3 -m venv /opt/venv" in files.dockerfile
    assert {"target_files.py", "target-files.json"} <= set(files.files())
    assert_hadolint_clean(files.dockerfile, tmp_path)


def test_the_seeded_tools_of_a_natively_made_environment_are_installed_there() -> None:
    """The locked pip, setuptools or wheel (pure wheels) go over the venv's own in the native
    stage that creates it; the target's stages still run nothing. (No fixture locks them:
    one of the lock's requirements stands in.)"""
    from poetry_docker_plugin.plan.cross import native_steps
    from tests.unit.plan.test_cross import arm64_plan, twin

    plan = arm64_plan()
    layers = plan.dependencies.layers
    seeded = dataclasses.replace(layers, seeded=layers.groups[0].requirements[:1])
    plan = dataclasses.replace(
        plan, dependencies=dataclasses.replace(plan.dependencies, layers=seeded)
    )
    steps, _ = native_steps(plan, twin())
    stages = stages_of(render(dataclasses.replace(plan, native=steps), SOURCES).dockerfile)
    assert stages["environment-files"][1].count("RUN") == 3  # venv, the seeded, the files
    assert all("RUN" not in kinds for native, kinds in stages.values() if not native)
    emulated = stages_of(render(plan, SOURCES).dockerfile)
    assert emulated[""][1].count("RUN") == 4  # the seeded, the check, the SBOM, the project


def assert_hadolint_clean(dockerfile: str, folder: Path) -> None:
    """hadolint finds nothing, down to style, in ``dockerfile`` (written into ``folder``)."""
    (folder / "Dockerfile").write_text(dockerfile)
    hadolint = subprocess.run(
        [HADOLINT, "--failure-threshold", "style", "--no-color", str(folder / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert hadolint.returncode == 0, hadolint.stdout + hadolint.stderr
