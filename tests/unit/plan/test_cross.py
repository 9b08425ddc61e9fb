"""Which steps of a build for another platform are made on the build platform (``plan.cross``):
all of a venv's when the base has a variant for it with the same Python release at the same
path; none otherwise, each refusal with the reason ``-v`` gives."""

from __future__ import annotations

import dataclasses

import pytest
from poetry.factory import Factory

from poetry_docker_plugin.pipeline.cross import emulation_report
from poetry_docker_plugin.plan.cross import native_steps
from poetry_docker_plugin.plan.layers import cross_install
from poetry_docker_plugin.plan.model import BaseImage, BuildPlan, NativeSteps, RuntimeUser
from poetry_docker_plugin.project.settings import Settings
from tests.conftest import FIXTURES, plan_from_poetry

RELEASE, PYTHON3 = "3.11.2", "/usr/bin/python3"


def target_base(reference: str, manager: str) -> BaseImage:
    return BaseImage(
        reference,
        id="sha256:" + "a" * 64,
        python="3.11",
        python_release=RELEASE,
        python_executable=PYTHON3,
        platform="linux/arm64",
    )


def twin(**changes: object) -> BaseImage:
    base = dataclasses.replace(
        target_base("debian:bookworm", "venv"), id="sha256:" + "b" * 64, platform="linux/amd64"
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def arm64_plan(fixture: str = "layers-bump", **settings: object) -> BuildPlan:
    poetry = Factory().create_poetry(FIXTURES / fixture)
    chosen = Settings().override(env_manager="venv", base_image="debian:bookworm", **settings)
    plan = plan_from_poetry(
        poetry, chosen, ["main"], platform="linux/arm64", probe_base=target_base
    )
    environment = plan.environment
    layers, _ = cross_install(
        plan.dependencies.layers, environment.target, environment.prefix, "linux/amd64", "3.11"
    )
    return dataclasses.replace(
        plan, dependencies=dataclasses.replace(plan.dependencies, layers=layers)
    )


def test_a_venv_whose_base_has_a_twin_is_made_natively_with_its_project() -> None:
    steps, why = native_steps(arm64_plan(), twin())
    assert (steps, why) == (NativeSteps("linux/amd64", "arm64", project=True), "")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"python_release": "3.11.4"},
            "has Python 3.11.4 at /usr/bin/python3, the target's 3.11.2",
        ),
        ({"python_executable": "/usr/local/bin/python3"}, "at /usr/local/bin/python3"),
        ({"platform": None}, "no variant for the build platform"),
    ],
)
def test_a_twin_that_would_give_another_venv_is_refused(
    changes: dict[str, object], reason: str
) -> None:
    steps, why = native_steps(arm64_plan(), twin(**changes))
    assert steps is None and reason in why


def test_no_twin_the_host_user_or_a_conda_environment_keep_it_emulated() -> None:
    plan = arm64_plan()
    assert native_steps(plan, None)[1] == "the base image has no variant for the build platform"
    user = dataclasses.replace(plan.runtime, user=RuntimeUser("1000", "me", 1000, 1000))
    hosted = dataclasses.replace(plan, runtime=user)
    assert native_steps(hosted, twin()) == (None, "the host's user is added by the target's tools")
    conda = dataclasses.replace(
        plan, environment=dataclasses.replace(plan.environment, manager="conda")
    )
    assert native_steps(conda, twin())[1] == "a conda environment is created by the target's conda"


def test_a_wheel_built_in_the_image_keeps_the_project_emulated() -> None:
    plan = arm64_plan("setuptools-project")
    assert plan.project.wheel_built_in_image
    steps, _ = native_steps(plan, twin())
    assert steps is not None and not steps.project


def test_the_report_of_a_wheels_only_project_lists_nothing_emulated() -> None:
    plan = arm64_plan()
    steps, _ = native_steps(plan, twin())
    report = emulation_report(dataclasses.replace(plan, native=steps), "linux/amd64", "")
    assert report.splitlines() == [
        "Building for linux/arm64 on linux/amd64:",
        f"  natively on linux/amd64: the {len(plan.dependencies.layers.groups)} groups of "
        "locked wheels",
        "  natively on linux/amd64: creating the venv environment, tini from Debian, the user, "
        "the shared-library check and the SBOM",
        "  natively on linux/amd64: installing the project's wheel",
        "  emulated (linux/arm64): nothing",
    ]
