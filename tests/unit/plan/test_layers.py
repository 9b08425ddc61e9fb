"""The grouping of locked wheels into layers (plan.layers), from locks made in memory."""

from __future__ import annotations

import dataclasses

from poetry_docker_plugin.lock.model import LockedRequirement
from poetry_docker_plugin.lock.sizes import index_sizes
from poetry_docker_plugin.lock.wheels import Target
from poetry_docker_plugin.plan.layers import (
    BUCKETS,
    LARGE_WHEEL_BYTES,
    MAX_OWN_LAYERS,
    copy_link_supported,
    cross_install,
    plan_layers,
)

TARGET = Target("3.11", "x86_64")
MB = 2**20


def wheel(name: str, version: str = "1.0", compiled: bool = True) -> LockedRequirement:
    tag = "cp311-cp311-manylinux_2_17_x86_64" if compiled else "py3-none-any"
    files = (f"{name}-{version}-{tag}.whl", f"{name}-{version}-cp311-cp311-win_amd64.whl")
    return LockedRequirement(name, version, "", ("sha256:" + "0" * 64,), files, ">=3.8")


def sizes_of(requirements: list[LockedRequirement], size: int) -> dict[str, int]:
    return {r.files[0]: size for r in requirements}


def groups_by_key(
    requirements: list[LockedRequirement], sizes: dict[str, int]
) -> dict[str, set[str]]:
    plan = plan_layers(requirements, TARGET, sizes)
    return {g.key: {f"{r.name}=={r.version}" for r in g.requirements} for g in plan.groups}


def test_large_packages_get_a_layer_each_and_the_rest_share_buckets() -> None:
    large = [wheel("numpy"), wheel("pandas")]
    small = [wheel(f"small{i}") for i in range(12)] + [
        wheel(f"pure{i}", compiled=False) for i in range(12)
    ]
    sizes = {**sizes_of(large, 20 * MB), **sizes_of(small, 200_000)}
    plan = plan_layers(large + small, TARGET, sizes)
    assert [g.key for g in plan.groups[:2]] == ["numpy", "pandas"]
    assert all(g.own for g in plan.groups[:2]) and not any(g.own for g in plan.groups[2:])
    assert plan.groups[0].size == 20 * MB
    assert sum(len(g.requirements) for g in plan.groups) == 26
    # 24 small packages spread over the buckets: no bucket holds more than a few.
    assert max(len(g.requirements) for g in plan.groups[2:]) <= 5


def test_a_bump_changes_only_its_own_group() -> None:
    large = [wheel("numpy")]
    small = [wheel(f"dep{i}") for i in range(40)]
    sizes = {**sizes_of(large, 20 * MB), **sizes_of(small, 100_000)}
    before = groups_by_key(large + small, sizes)
    bumped = [*large, *small[:7], wheel("dep7", "2.0"), *small[8:]]
    after = groups_by_key(
        bumped, {**sizes, **sizes_of(bumped, 100_000), **sizes_of(large, 20 * MB)}
    )
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert len(changed) == 1 and "dep7==2.0" in after[changed.pop()]
    assert after["numpy"] == before["numpy"]


def test_adding_or_removing_a_package_moves_no_other() -> None:
    small = [wheel(f"dep{i}") for i in range(60)]
    before = groups_by_key(small, {})
    after = groups_by_key([*small[:10], *small[11:], wheel("newcomer")], {})
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert 1 <= len(changed) <= 2
    for key in changed:
        assert before.get(key, set()) ^ after.get(key, set()) <= {"dep10==1.0", "newcomer==1.0"}


def test_hundreds_of_packages_stay_far_under_the_layer_limit() -> None:
    many = [wheel(f"pkg{i}") for i in range(600)]
    plan = plan_layers(many, TARGET, sizes_of(many, 50 * MB))
    assert len(plan.groups) == MAX_OWN_LAYERS + BUCKETS
    assert sum(len(g.requirements) for g in plan.groups) == 600
    # The largest are the ones alone (ties broken by name).
    own = {g.key for g in plan.groups if g.own}
    assert "pkg599" not in own
    sized = {**sizes_of(many, 50 * MB), many[599].files[0]: 90 * MB}
    assert "pkg599" in {g.key for g in plan_layers(many, TARGET, sized).groups if g.own}


def test_unknown_or_small_sizes_and_other_platforms_wheels_do_not_count_as_large() -> None:
    numpy = wheel("numpy")
    assert not plan_layers([numpy], TARGET, {}).groups[0].own
    only_windows = {numpy.files[1]: 50 * MB, numpy.files[0]: LARGE_WHEEL_BYTES - 1}
    assert not plan_layers([numpy], TARGET, only_windows).groups[0].own
    assert plan_layers([numpy], TARGET, {numpy.files[0]: LARGE_WHEEL_BYTES}).groups[0].own


def test_seeded_packages_and_packages_of_other_platforms_get_no_group() -> None:
    windows_only = dataclasses.replace(wheel("pywin32"), marker='sys_platform == "win32"')
    plan = plan_layers([wheel("pip", compiled=False), windows_only, wheel("yaml")], TARGET, {})
    assert [r.name for r in plan.seeded] == ["pip"]
    assert [r.name for g in plan.groups for r in g.requirements] == ["yaml"]
    assert all(g.stage.startswith("layer-") and g.file.endswith(".txt") for g in plan.groups)


def test_copy_link_only_where_the_engine_has_it() -> None:
    assert not copy_link_supported("docker", "20.10.24+dfsg1")
    assert copy_link_supported("docker", "24.0.7")
    assert not copy_link_supported("podman", "4.3.1")
    assert not copy_link_supported("docker", "")


def test_sizes_come_only_from_well_formed_entries_of_the_index_page() -> None:
    page = {
        "files": [
            {"filename": "a-1.0-py3-none-any.whl", "size": 1234},
            {"filename": "a-1.0.tar.gz", "size": 99},
            {"filename": "b-1.0-py3-none-any.whl", "size": "12"},
            {"filename": "c-1.0-py3-none-any.whl", "size": True},
            "junk",
        ]
    }
    wanted = ["a-1.0-py3-none-any.whl", "b-1.0-py3-none-any.whl", "c-1.0-py3-none-any.whl"]
    assert index_sizes(page, wanted) == {"a-1.0-py3-none-any.whl": 1234}
    assert index_sizes(["not", "a", "page"], wanted) == {}


def test_a_foreign_target_installs_natively_only_with_the_same_python_on_both() -> None:
    arm64 = Target("3.11", "aarch64")
    layers = plan_layers([wheel("numpy"), wheel("six", compiled=False)], arm64, {})
    crossed, why = cross_install(layers, arm64, "/opt/venv", "linux/amd64", "3.11")
    assert why == "" and crossed.cross is not None
    assert crossed.cross.abi == "cp311" and crossed.cross.prefix == "/opt/venv"
    tags = crossed.cross.platform_tags
    assert tags[0] == "manylinux_2_36_aarch64" and tags[-1] == "linux_aarch64"
    assert "manylinux2014_aarch64" in tags and not any("x86_64" in tag for tag in tags)
    same, why = cross_install(layers, arm64, "/opt/venv", "linux/amd64", "3.12")
    assert same.cross is None and "Python 3.11" in why and "3.12" in why
    same, why = cross_install(layers, arm64, "/opt/venv", "linux/amd64", None)
    assert same.cross is None and "found: none" in why
    by_url = dataclasses.replace(wheel("yaml"), kind="url", source_url="https://example.org/y.whl")
    url_layers = plan_layers([by_url], arm64, {})
    assert cross_install(url_layers, arm64, "/opt/venv", "linux/amd64", "3.11")[1] == (
        "a wheel is locked by URL"
    )


def test_the_report_names_what_runs_emulated_and_why() -> None:
    """-v's report for another platform: the groups natively when they can be, and every
    step that runs the target's code (an sdist's build among them), each with its reason."""
    from poetry.factory import Factory

    from poetry_docker_plugin.pipeline.cross import emulation_report
    from poetry_docker_plugin.project.settings import Settings
    from tests.conftest import FIXTURES, plan_from_poetry

    poetry = Factory().create_poetry(FIXTURES / "sdist-only")
    settings = Settings().override(env_manager="venv", base_image="debian:bookworm", python="3.11")
    plan = plan_from_poetry(poetry, settings, ["main"], platform="linux/arm64")
    assert plan.needs_builder
    report = emulation_report(plan, "linux/amd64", "a wheel is locked by URL")
    lines = report.splitlines()
    assert lines[0] == "Building for linux/arm64 on linux/amd64:"
    assert (
        "  emulated (linux/arm64): building sdists, git and path dependencies "
        "(compilers of the target)"
    ) in lines
    assert any(
        line.startswith("  emulated (linux/arm64): creating the venv environment, tini")
        for line in lines
    ), lines
    if plan.dependencies.layers.groups:
        assert any("groups of locked wheels (a wheel is locked by URL)" in line for line in lines)
