"""Plan: the choice of Python, environment manager, base image, command, tags and labels."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from poetry.factory import Factory

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.lock.model import Lock, LockedRequirement
from poetry_docker_plugin.lock.wheels import Target
from poetry_docker_plugin.plan.model import BaseImage
from poetry_docker_plugin.project.settings import Settings
from tests.conftest import FIXTURES, plan_from_poetry

if TYPE_CHECKING:
    from poetry.poetry import Poetry


def poetry_of(name: str) -> Poetry:
    return Factory().create_poetry(FIXTURES / name)


def test_newest_python_with_wheels_for_every_package() -> None:
    plan = plan_from_poetry(poetry_of("flat-script"), Settings(), ["main"], platform="linux/amd64")
    assert plan.python == "3.14"


def test_a_lock_with_wheels_only_up_to_38_yields_38() -> None:
    plan = plan_from_poetry(poetry_of("old-numpy"), Settings(), ["main"], platform="linux/amd64")
    assert plan.python == "3.8"
    assert "numpy 1.18.5" in plan.environment.python_reason


def test_requested_python_must_fit_the_constraint() -> None:
    plan = plan_from_poetry(poetry_of("flat-script"), Settings(python="3.10"), ["main"])
    assert plan.python == "3.10"
    with pytest.raises(DockerPluginError, match=r"Python 3\.8 .* not allowed .*'>=3\.9,<4'"):
        plan_from_poetry(poetry_of("flat-script"), Settings(python="3.8"), ["main"])


def test_venv_uses_the_python_of_a_python_base_image() -> None:
    settings = Settings(base_image="python:3.12-slim-bookworm")
    plan = plan_from_poetry(poetry_of("flat-script"), settings, ["main"])
    assert (plan.environment.manager, plan.python, plan.environment.prefix) == (
        "venv",
        "3.12",
        "/opt/venv",
    )
    with pytest.raises(DockerPluginError, match=r"base image python:3\.8-slim has Python 3\.8"):
        plan_from_poetry(poetry_of("flat-script"), Settings(base_image="python:3.8-slim"), ["main"])


def test_venv_base_whose_python_lacks_the_wheels_is_refused() -> None:
    settings = Settings(base_image="python:3.9-slim")
    with pytest.raises(DockerPluginError, match=r"numpy 1\.18\.5"):
        plan_from_poetry(poetry_of("old-numpy"), settings, ["main"], platform="linux/amd64")


def test_venv_probes_an_unknown_base_image() -> None:
    settings = Settings(base_image="in-house/base:7")
    plan = plan_from_poetry(
        poetry_of("flat-script"),
        settings,
        ["main"],
        probe_base=lambda image, _: BaseImage(image, python="3.11"),
    )
    assert plan.python == "3.11"


@pytest.mark.parametrize(
    ("base", "found", "manager"),
    [
        (None, None, "conda"),  # the default Miniforge base, not asked
        ("acme/ds-base:2024", "conda", "conda"),
        ("condaforge/miniforge3:24.9.2-0", "venv", "venv"),  # the image, not its name
        ("registry:5000/team/tools:2", "micromamba", "micromamba"),
        ("python:3.12-slim", "venv", "venv"),
    ],
)
def test_env_manager_is_what_the_base_image_holds(
    base: str | None, found: str | None, manager: str
) -> None:
    """Asked of the base image (``probe_base`` with "auto"), never read from its name."""
    asked = []

    def probe(reference: str, kind: str) -> BaseImage:
        asked.append(kind)
        return BaseImage(reference, id="sha256:1", python="3.11", manager=found)

    settings = Settings(base_image=base, python="3.11")
    plan = plan_from_poetry(poetry_of("flat-script"), settings, ["main"], probe_base=probe)
    assert plan.environment.manager == manager
    assert asked[0] == ("conda" if base is None else "auto")
    if base is not None:
        assert base in plan.environment.manager_reason


@pytest.mark.parametrize(
    ("base", "manager"),
    [
        ("condaforge/miniforge3:24.9.2-0", "conda"),
        ("mambaorg/micromamba:1.5.10", "micromamba"),
        ("acme/ds-base:2024", "venv"),
    ],
)
def test_a_base_image_not_looked_at_is_guessed_from_its_name_and_said_so(
    base: str, manager: str
) -> None:
    """Only files are written and no engine answers: the name is a hint, and named as one."""
    settings = Settings(base_image=base, python="3.11")
    plan = plan_from_poetry(poetry_of("flat-script"), settings, ["main"])
    assert plan.environment.manager == manager
    assert "not looked at" in plan.environment.manager_reason


def test_the_env_manager_setting_is_not_second_guessed() -> None:
    settings = Settings(base_image="acme/ds-base:2024", env_manager="venv")
    plan = plan_from_poetry(
        poetry_of("flat-script"),
        settings,
        ["main"],
        probe_base=lambda image, kind: BaseImage(image, python="3.11", manager="conda"),
    )
    assert plan.environment.manager == "venv"


def test_default_command_tags_and_labels() -> None:
    plan = plan_from_poetry(poetry_of("flat-script"), Settings(), ["main"])
    assert plan.runtime.command == ("hello",)
    assert plan.metadata.tags == ("hello-app:0.3.1", "hello-app:latest")
    labels = dict(plan.metadata.labels)
    assert labels["org.opencontainers.image.version"] == "0.3.1"
    assert labels["org.opencontainers.image.source"] == "https://example.org/hello-app"
    assert labels["org.opencontainers.image.licenses"] == "MIT"


def test_settings_change_command_tags_and_labels() -> None:
    settings = Settings(
        image="team/hello", tags=("dev",), labels=(("org.opencontainers.image.version", "x"),)
    )
    plan = plan_from_poetry(poetry_of("flat-script"), settings, ["main"])
    assert plan.metadata.tags == ("team/hello:dev",)
    assert dict(plan.metadata.labels)["org.opencontainers.image.version"] == "x"
    assert plan_from_poetry(poetry_of("no-package"), Settings(), ["main"]).runtime.command == (
        "python",
    )
    assert plan_from_poetry(poetry_of("src-layout"), Settings(), ["main"]).runtime.command == (
        "python",
    )


def test_package_mode_false_is_named_after_its_directory() -> None:
    plan = plan_from_poetry(poetry_of("no-package"), Settings(), ["main"])
    assert not plan.project.package_mode
    assert plan.metadata.tags == ("no-package:latest",)


def test_package_mode_false_takes_a_declared_name_and_version(tmp_path: Path) -> None:
    """Checkouts in folders of the same name (api, app) must not overwrite each other's images."""
    project = tmp_path / "app"
    shutil.copytree(FIXTURES / "no-package", project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "package-mode = false\n",
            'package-mode = false\nname = "billing-api"\nversion = "2.1.0"\n',
        )
    )
    plan = plan_from_poetry(Factory().create_poetry(project), Settings(), ["main"])
    assert plan.metadata.tags == ("billing-api:2.1.0", "billing-api:latest")


def test_the_venv_python_is_the_base_images() -> None:
    """A requested Python the base cannot give, or the constraint forbids, is refused."""
    base = lambda image, _: BaseImage(image, python="3.11")  # noqa: E731
    settings = Settings(base_image="in-house/base:7", python="3.12")
    with pytest.raises(DockerPluginError, match=r"Python 3\.12 was requested .* has Python 3\.11"):
        plan_from_poetry(poetry_of("flat-script"), settings, ["main"], probe_base=base)
    with pytest.raises(DockerPluginError, match=r"Python 3\.8 .* not allowed"):
        plan_from_poetry(poetry_of("flat-script"), Settings(python="3.8"), ["main"])


def test_the_workdir_may_not_hold_the_environment() -> None:
    with pytest.raises(
        DockerPluginError, match=r"`workdir` .* overlaps the environment at /opt/venv"
    ):
        plan_from_poetry(
            poetry_of("flat-script"), Settings(base_image="python:3.12", workdir="/opt"), ["main"]
        )


def test_wheels_must_run_on_the_glibc_of_the_last_stage() -> None:
    """A lock whose only wheels need glibc 2.38 is not installable on bookworm's 2.36."""
    new = LockedRequirement(
        "fresh", "1.0", "", (), ("fresh-1.0-cp312-cp312-manylinux_2_38_x86_64.whl",), "*"
    )
    lock = Lock(Path("poetry.lock"), (new,), (), ())
    assert lock.uninstallable(Target("3.12", "x86_64", 36)) == ["fresh 1.0"]
    assert lock.uninstallable(Target("3.12", "x86_64", 39)) == []
    assert BaseImage("x", glibc="2.39").glibc_minor == 39
    assert BaseImage("x").glibc_minor == 36, "bookworm's when the base was not looked at"


def test_default_bases_are_miniforge_and_for_venv_the_python_org_image() -> None:
    """What the settings reference and `--base-image`'s help give as the defaults."""
    conda = plan_from_poetry(poetry_of("flat-script"), Settings(), ["main"])
    assert conda.environment.manager == "conda"
    assert conda.environment.base.reference == "condaforge/miniforge3:25.3.1-0"
    venv = plan_from_poetry(poetry_of("flat-script"), Settings(env_manager="venv"), ["main"])
    assert venv.environment.base.reference == f"python:{venv.python}-slim-bookworm"
