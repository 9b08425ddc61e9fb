"""The plan made from values built in memory, as poetry-plugin-export's exporter is tested from
lock data in memory: no project on disk, no Poetry, no engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.lock.model import Lock, LockedRequirement
from poetry_docker_plugin.plan.decide import make_plan
from poetry_docker_plugin.plan.model import BaseImage, BuildPlan
from poetry_docker_plugin.platforms import Platform
from poetry_docker_plugin.project.facts import ProjectFacts
from poetry_docker_plugin.project.settings import Settings

PROJECT = ProjectFacts(
    pyproject_path=Path("/work/hello/pyproject.toml"),
    name="hello",
    version="1.0",
    python_constraint=">=3.9,<4",
    scripts=("hello",),
)
WHEEL_312 = "fast-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_311 = "fast-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
AMD64 = Platform("linux", "amd64")
PURE = "pure-2.0-py3-none-any.whl"


def locked(
    name: str, *files: str, marker: str = "", kind: str = "index", python: str = "*"
) -> LockedRequirement:
    return LockedRequirement(name, "1.0", marker, ("sha256:" + "0" * 64,), files, python, kind=kind)


def lock_of(*requirements: LockedRequirement, groups: tuple[str, ...] = ("main",)) -> Lock:
    return Lock(Path("/work/hello/poetry.lock"), requirements, groups, ())


def plan_of(
    lock: Lock,
    settings: Settings | None = None,
    project: ProjectFacts = PROJECT,
    *,
    machine: str = "x86_64",
    editable: bool = False,
) -> BuildPlan:
    """The plan on bases that look like the published ones (bookworm's glibc)."""
    return make_plan(
        project,
        lock,
        settings or Settings(),
        platform=Platform.parse(f"linux/{machine}"),
        editable=editable,
        probe_base=lambda reference, _: BaseImage(reference, id="sha256:1", glibc="2.36"),
    )


def test_the_newest_python_every_package_has_a_wheel_for() -> None:
    assert plan_of(lock_of(locked("pure", PURE))).python == "3.14"
    plan = plan_of(lock_of(locked("fast", WHEEL_311, WHEEL_312, "fast-1.0.tar.gz")))
    assert plan.python == "3.12"
    assert "3.13: fast 1.0" in plan.environment.python_reason


def test_a_requested_python_is_checked_against_the_constraint_only() -> None:
    lock = lock_of(locked("fast", WHEEL_312))
    assert plan_of(lock, Settings(python="3.10")).python == "3.10"
    with pytest.raises(DockerPluginError, match=r"Python 3\.8 .*not allowed.*'>=3\.9,<4'"):
        plan_of(lock, Settings(python="3.8"))


def test_no_python_with_wheels_for_every_package_is_one_clear_error() -> None:
    lock = lock_of(locked("fast", "fast-1.0-cp38-cp38-manylinux1_x86_64.whl", "fast-1.0.tar.gz"))
    with pytest.raises(DockerPluginError, match=r"No Python allowed by '>=3\.9,<4'.*fast 1\.0"):
        plan_of(lock)


def test_the_machine_chooses_the_wheels() -> None:
    arm = "fast-1.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
    lock = lock_of(locked("fast", arm, WHEEL_311))
    assert plan_of(lock, machine="aarch64").python == "3.12"
    assert plan_of(lock, machine="x86_64").python == "3.11"


def test_markers_select_what_applies_on_linux_and_this_python() -> None:
    lock = lock_of(
        locked("pure", PURE),
        locked(
            "pywin32", "pywin32-1.0-cp312-cp312-win_amd64.whl", marker='sys_platform == "win32"'
        ),
        locked("tomli", PURE.replace("pure", "tomli"), marker='python_version < "3.11"'),
    )
    plan = plan_of(lock, Settings(python="3.12"))
    installed = [r.name for r in plan.dependencies.pure + plan.dependencies.compiled]
    # Hashed requirements keep their markers for pip; what cannot apply is not installed.
    assert "pure" in installed
    assert plan.python == "3.12", "a Windows-only package does not block the Python choice"
    older = plan_of(lock, Settings(python="3.10"))
    assert any(r.name == "tomli" for r in older.dependencies.pure)


def test_compiled_wheels_get_a_layer_of_their_own() -> None:
    plan = plan_of(
        lock_of(locked("fast", WHEEL_312), locked("pure", PURE)), Settings(python="3.12")
    )
    assert [r.name for r in plan.dependencies.compiled] == ["fast"]
    assert [r.name for r in plan.dependencies.pure] == ["pure"]
    assert not plan.needs_builder


@pytest.mark.parametrize(
    ("requirement", "compiler"),
    [
        # binary wheels, but none for 3.12: the sdist is compiled
        (locked("fast", WHEEL_311, "fast-1.0.tar.gz"), True),
        # only an sdist (from an index or a URL): it may hold C code, as python-ldap's does
        (locked("ldap", "ldap-1.0.tar.gz"), True),
        (locked("ldap", "ldap-1.0.tar.gz", kind="url"), True),
        # pure (none-any) wheels only, none for 3.12: built, and known to be pure Python
        (locked("slow", "slow-1.0-py2-none-any.whl", "slow-1.0.tar.gz"), False),
        # path projects that poetry-core cannot build, and sdists on the host: built in the image
        (locked("lib", kind="directory"), True),
        (locked("lib", kind="file"), True),
    ],
)
def test_the_wheels_stage_gets_a_compiler_unless_what_it_builds_is_known_pure(
    requirement: LockedRequirement, compiler: bool
) -> None:
    plan = plan_of(lock_of(requirement), Settings(python="3.12"))
    assert plan.needs_builder
    assert ("build-essential" in plan.dependencies.build_tools) is compiler


def venv_plan(requirement: LockedRequirement, python_headers: bool | None) -> BuildPlan:
    """The plan of a venv on a base whose python3 (3.11) has its headers, or not."""
    settings = Settings(env_manager="venv", base_image="debian-python:bookworm")
    return make_plan(
        PROJECT,
        lock_of(requirement),
        settings,
        platform=AMD64,
        probe_base=lambda reference, _: BaseImage(
            reference, id="sha256:1", python="3.11", glibc="2.36", python_headers=python_headers
        ),
    )


@pytest.mark.parametrize(
    "requirement",
    [
        locked("ldap", "ldap-1.0.tar.gz"),
        locked("lib", kind="directory"),
        locked("lib", "lib-1.0.tar.gz", kind="file"),
    ],
)
def test_a_venv_gets_its_pythons_headers_to_compile_when_the_base_lacks_them(
    requirement: LockedRequirement,
) -> None:
    lacking = venv_plan(requirement, python_headers=False).dependencies
    assert lacking.build_tools == ("build-essential", "python3.11-dev")
    for present in (True, None):  # None: not looked at, as python.org's images (which have them)
        assert venv_plan(requirement, present).dependencies.build_tools == ("build-essential",)


def test_headers_come_only_with_the_compiler() -> None:
    assert venv_plan(locked("pure", PURE), python_headers=False).dependencies.build_tools == ()
    commit = LockedRequirement("lib", "1.0", "", (), (), "*", "https://example.org/lib", "git")
    plan = venv_plan(commit, python_headers=False)
    assert plan.needs_builder and plan.dependencies.build_tools == ("git",)


def test_conda_environments_carry_their_pythons_headers() -> None:
    """conda's python package has them, whatever the base's own python3 lacks."""
    plan = make_plan(
        PROJECT,
        lock_of(locked("ldap", "ldap-1.0.tar.gz")),
        Settings(python="3.12"),
        platform=AMD64,
        probe_base=lambda reference, _: BaseImage(reference, id="sha256:1", python_headers=False),
    )
    assert plan.environment.manager == "conda"
    assert plan.dependencies.build_tools == ("build-essential",)


def test_git_dependencies_bring_git_and_ssh_ones_openssh() -> None:
    https = LockedRequirement(
        "lib", "1.0", "", (), (), "*", "https://example.org/lib.git", "git", "abc"
    )
    ssh = LockedRequirement(
        "tool", "1.0", "", (), (), "*", "git@example.org:team/tool.git", "git", "def"
    )
    plan = plan_of(lock_of(https, ssh), Settings(python="3.12"))
    assert plan.dependencies.build_tools == ("git", "openssh-client")
    assert plan.dependencies.ssh == ("tool",)


def test_groups_and_extras_of_the_lock_are_the_plans() -> None:
    lock = Lock(Path("poetry.lock"), (locked("pure", PURE),), ("dev", "main"), ("fast",))
    dependencies = plan_of(lock).dependencies
    assert (dependencies.groups, dependencies.extras) == (("dev", "main"), ("fast",))


def test_conda_environments_run_in_a_runtime_stage() -> None:
    lock = lock_of(locked("pure", PURE))
    plan = plan_of(lock)
    assert plan.environment.manager == "conda"
    assert plan.environment.runtime_base == BaseImage(
        "debian:bookworm-slim", id="sha256:1", glibc="2.36"
    )
    assert plan.environment.prefix == "/opt/conda/envs/hello"
    assert plan_of(lock, Settings(runtime_base="base")).environment.runtime_base is None
    assert plan_of(lock, editable=True).environment.runtime_base is None, "development image"
    slim = plan_of(lock, Settings(runtime_base="registry.example/slim:12"))
    assert slim.environment.runtime_base
    assert slim.environment.runtime_base.reference == "registry.example/slim:12"


def test_venv_has_no_runtime_stage() -> None:
    settings = Settings(base_image="python:3.12-slim", runtime_base="debian:bookworm-slim")
    with pytest.raises(DockerPluginError, match=r"`runtime-base` .*venv manager"):
        plan_of(lock_of(locked("pure", PURE)), settings)


def test_the_runtime_stage_glibc_limits_the_wheels() -> None:
    """The environment runs on the last stage's C library: its glibc bounds the wheels."""
    new = locked("new", "new-1.0-cp312-cp312-manylinux_2_38_x86_64.whl", WHEEL_311)

    def probe(reference: str, manager: str) -> BaseImage:
        return BaseImage(reference, id="sha256:1", glibc="2.36" if manager == "runtime" else "2.39")

    def python_on(settings: Settings) -> str:
        plan = make_plan(PROJECT, lock_of(new), settings, platform=AMD64, probe_base=probe)
        return plan.python

    assert python_on(Settings()) == "3.11", "bookworm's glibc 2.36 in the runtime stage"
    assert python_on(Settings(runtime_base="base")) == "3.12", "the base's 2.39 is the last"


@pytest.mark.parametrize(
    ("user", "root"),
    [("root", True), ("0", True), ("00", True), ("0:1000", True), ("1000", False), ("app", False)],
)
def test_root_is_known_by_its_uid(user: str, root: bool) -> None:
    plan = plan_of(lock_of(), Settings(user=user))
    assert plan.runtime.user.is_root is root


def test_package_mode_false_projects_run_python_and_are_named_after_their_folder() -> None:
    project = ProjectFacts(Path("/work/api/pyproject.toml"), None, None, package_mode=False)
    plan = plan_of(lock_of(), project=project)
    assert plan.metadata.tags == ("api:latest",)
    assert plan.runtime.command == ("python",)
    assert not plan.project.package_mode


@pytest.mark.parametrize(
    ("settings", "refused"),
    [
        (Settings(), "condaforge/miniforge3"),  # the base image
        (Settings(runtime_base="team/slim:1"), "team/slim:1"),  # the runtime stage's base
    ],
)
def test_a_base_image_of_another_platform_is_refused(settings: Settings, refused: str) -> None:
    """The target is arm64: an amd64 base (the one the engine has under that name) would
    run emulated, with wheels chosen for another machine than its own."""

    def probe(reference: str, manager: str) -> BaseImage:
        arm = not reference.startswith(refused)
        return BaseImage(reference, id="sha256:1", platform="linux/arm64" if arm else "linux/amd64")

    lock = lock_of(locked("pure", PURE))
    arm64 = Platform.parse("linux/arm64")
    with pytest.raises(DockerPluginError, match="linux/amd64 image") as raised:
        make_plan(PROJECT, lock, settings, platform=arm64, probe_base=probe)
    assert refused in str(raised.value) and "--platform" in str(raised.value)
    plan = make_plan(PROJECT, lock, settings, platform=AMD64, probe_base=lambda r, m: BaseImage(r))
    assert plan.environment.platform == AMD64, "a base that was not looked at is not refused"


def test_the_old_poetry_backend_name_is_built_like_poetry_core() -> None:
    """`build-backend = "poetry.masonry.api"` (old `poetry new` templates) names the same
    builder: the wheel is built in-process, not by pip installing Poetry in the image."""
    import dataclasses

    old = dataclasses.replace(PROJECT, backend="poetry.masonry.api")
    assert old.builds_with_poetry_core
    assert not plan_of(lock_of(locked("pure", PURE)), project=old).project.wheel_built_in_image
    other = dataclasses.replace(PROJECT, backend="setuptools.build_meta")
    assert plan_of(lock_of(locked("pure", PURE)), project=other).project.wheel_built_in_image
