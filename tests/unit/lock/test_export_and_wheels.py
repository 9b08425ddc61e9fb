"""Requirements: the export of the lock, and which Pythons its files can be installed on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from poetry.factory import Factory

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.lock.export import requirements_text
from poetry_docker_plugin.lock.model import LockedRequirement
from poetry_docker_plugin.lock.read import check_extras, check_lock, read_lock
from poetry_docker_plugin.lock.wheels import Target, is_pure_python
from tests.conftest import FIXTURES, copy_fixture, poetry_in_process


def requirement(*files: str, marker: str = "", python_versions: str = "*") -> LockedRequirement:
    return LockedRequirement("pkg", "1.0", marker, ("sha256:00",), files, python_versions)


@pytest.mark.parametrize(
    ("files", "python", "expected"),
    [
        (("pkg-1.0-py3-none-any.whl",), "3.13", True),
        (("pkg-1.0-cp38-cp38-manylinux1_x86_64.whl", "pkg-1.0.tar.gz"), "3.8", True),
        (("pkg-1.0-cp38-cp38-manylinux1_x86_64.whl", "pkg-1.0.tar.gz"), "3.9", False),
        (("pkg-1.0-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",), "3.12", True),
        (
            ("pkg-1.0-cp312-cp312-win_amd64.whl", "pkg-1.0-cp312-cp312-macosx_11_0_arm64.whl"),
            "3.12",
            False,
        ),
        (("pkg-1.0-cp312-cp312-musllinux_1_1_x86_64.whl",), "3.12", False),
        (("pkg-1.0.tar.gz",), "3.12", True),
        ((), "3.12", False),
    ],
)
def test_wheel_or_sdist(files: tuple[str, ...], python: str, expected: bool) -> None:
    assert requirement(*files).installable_on(Target(python, "x86_64")) is expected


@pytest.mark.parametrize(
    ("files", "pure"),
    [
        (("pkg-1.0-py2.py3-none-any.whl", "pkg-1.0.tar.gz"), True),
        (("pkg-1.0-py2-none-any.whl",), True),
        (("pkg-1.0.tar.gz",), False),  # an sdist says nothing of its code
        ((), False),
        (("pkg-1.0-py3-none-any.whl", "pkg-1.0-cp312-cp312-win_amd64.whl"), False),
        (("pkg-1.0-cp39-abi3-manylinux_2_17_x86_64.whl",), False),
        (("pkg-1.0-py3-none-win_amd64.whl",), False),  # no C ABI, but for Windows alone
    ],
)
def test_only_none_any_wheels_show_a_pure_python_package(
    files: tuple[str, ...], pure: bool
) -> None:
    assert is_pure_python(files) is pure


def test_aarch64_wheels_do_not_count_on_x86_64() -> None:
    arm = requirement("pkg-1.0-cp312-cp312-manylinux_2_17_aarch64.whl")
    assert arm.installable_on(Target("3.12", "aarch64"))
    assert not arm.installable_on(Target("3.12", "x86_64"))


def test_markers_are_evaluated_for_linux() -> None:
    assert not requirement(marker='sys_platform == "win32"').applies_to(Target("3.12", "x86_64"))
    assert requirement(marker='sys_platform == "linux"').applies_to(Target("3.12", "x86_64"))
    assert not requirement(marker='python_version < "3.10"').applies_to(Target("3.12", "x86_64"))


@pytest.mark.parametrize(
    ("marker", "python", "expected"),
    [
        ('python_full_version >= "3.8.1"', "3.8", True),
        ('python_full_version < "3.8.1"', "3.8", True),
        ('python_full_version >= "3.8.1" and python_version < "3.9"', "3.8", True),
        ('python_full_version == "3.11.4"', "3.11", True),
        ('python_full_version > "3.11.2" and python_full_version < "3.11.4"', "3.11", True),
        ('python_full_version != "3.11.4"', "3.11", True),
        ('implementation_version >= "3.12.3"', "3.12", True),
        ('python_full_version >= "3.9.1"', "3.8", False),
        ('python_full_version < "3.8.1"', "3.9", False),
        ('python_full_version >= "3.8.1" and sys_platform == "win32"', "3.8", False),
        ('python_full_version == "3.11.4" and python_full_version != "3.11.4"', "3.11", False),
    ],
)
def test_patch_level_markers_apply_when_some_patch_release_matches(
    marker: str, python: str, expected: bool
) -> None:
    """The image's patch release is not known when the plan is made: pip decides in it."""
    assert requirement(marker=marker).applies_to(Target(python, "x86_64")) is expected


def test_packages_built_in_the_image_are_pinned_with_their_markers() -> None:
    """Two locked versions that both may apply are both planned; pip installs the right one."""
    from poetry_docker_plugin.lock.model import Lock
    from poetry_docker_plugin.lock.wheels import Target
    from poetry_docker_plugin.plan.decide import plan_dependencies

    old, new = (
        LockedRequirement("pkg", version, marker, ("sha256:00",), ("pkg.tar.gz",), "*")
        for version, marker in (
            ("1.0", 'python_full_version < "3.8.1"'),
            ("2.0", 'python_full_version >= "3.8.1"'),
        )
    )
    lock = Lock(Path("poetry.lock"), (old, new), (), ())
    plan = plan_dependencies(lock, Target("3.8", "x86_64"), False, ca_bundle=False)
    assert plan.built == (old, new)
    assert [r.pin for r in plan.wheels_stage_builds] == [
        'pkg==1.0 ; python_full_version < "3.8.1"',
        'pkg==2.0 ; python_full_version >= "3.8.1"',
    ]


def test_python_range_of_a_package() -> None:
    assert requirement(python_versions=">=3.9").allows_python("3.9")
    assert not requirement(python_versions=">=3.10").allows_python("3.9")


def test_export_is_pinned_hashed_and_marked() -> None:
    poetry = Factory().create_poetry(FIXTURES / "platform-marker")
    requirements = read_lock(poetry, ["main"], []).requirements
    by_name = {r.name: r for r in requirements}
    assert set(by_name) == {"colorama", "typing-extensions"}
    assert 'sys_platform == "win32"' in by_name["colorama"].marker
    text = requirements_text(requirements)
    assert "colorama==" in text
    assert "--hash=sha256:" in text
    assert [line.split("==")[0] for line in text.splitlines() if "==" in line.split(" ")[0]] == [
        "colorama",
        "typing-extensions",
    ]


def test_groups_and_extras_select_what_is_exported() -> None:
    poetry = Factory().create_poetry(FIXTURES / "groups-extras")

    def names(groups: list[str], extras: list[str]) -> set[str]:
        return {r.name for r in read_lock(poetry, groups, extras).requirements}

    assert names(["main"], []) == {"six"}
    assert names(["main"], ["fast"]) == {"six", "markupsafe"}
    assert names(["main", "dev"], []) == {"six", "iniconfig"}
    assert names(["dev"], []) == {"iniconfig"}


def test_unknown_extra_is_refused() -> None:
    poetry = Factory().create_poetry(FIXTURES / "groups-extras")
    assert check_extras(poetry, ["Fast"]) == ("fast",)
    with pytest.raises(DockerPluginError, match=r"Extra.*turbo.*declared: fast"):
        check_extras(poetry, ["turbo"])


def test_missing_and_stale_locks(tmp_path: Path) -> None:
    import shutil

    project = shutil.copytree(FIXTURES / "platform-marker", tmp_path / "p")
    (project / "poetry.lock").unlink()
    with pytest.raises(DockerPluginError, match="run `poetry lock` first"):
        check_lock(Factory().create_poetry(project))
    shutil.copy(FIXTURES / "platform-marker" / "poetry.lock", project / "poetry.lock")
    check_lock(Factory().create_poetry(project))
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"typing-extensions (>=4.8)', '"typing-extensions (>=4.9)')
    )
    with pytest.raises(DockerPluginError, match=r"out of date.*Run `poetry lock`"):
        check_lock(Factory().create_poetry(project))


def sources_project(tmp_path: Path, sources: str) -> Path:
    project = tmp_path / "sources"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = "^3.9"\n'
        + sources
    )
    return project


def test_index_options_follow_the_project_sources(tmp_path: Path) -> None:
    from poetry_docker_plugin.lock.read import index_options

    project = sources_project(
        tmp_path,
        '\n[[tool.poetry.source]]\nname = "corp"\nurl = "https://pypi.corp.example/simple/"\n'
        'priority = "primary"\n'
        '\n[[tool.poetry.source]]\nname = "extra"\nurl = "https://extra.example/simple/"\n'
        'priority = "supplemental"\n'
        '\n[[tool.poetry.source]]\nname = "torch"\nurl = "https://torch.example/whl/"\n'
        'priority = "explicit"\n'
        '\n[[tool.poetry.source]]\nname = "unused"\nurl = "https://unused.example/simple/"\n'
        'priority = "supplemental"\n',
    )
    poetry = Factory().create_poetry(project)
    used = [
        LockedRequirement("a", "1", "", (), (), "*", source_url="https://extra.example/simple"),
        LockedRequirement("b", "1", "", (), (), "*", source_url="https://torch.example/whl"),
    ]
    assert index_options(poetry, used) == (
        ("--index-url", "https://pypi.corp.example/simple"),
        ("--extra-index-url", "https://extra.example/simple"),
        ("--extra-index-url", "https://torch.example/whl"),
    )


def test_pypi_stays_the_index_without_a_primary_source(tmp_path: Path) -> None:
    from poetry_docker_plugin.lock.read import index_options

    project = sources_project(
        tmp_path,
        '\n[[tool.poetry.source]]\nname = "extra"\nurl = "https://extra.example/simple/"\n'
        'priority = "supplemental"\n',
    )
    poetry = Factory().create_poetry(project)
    assert index_options(poetry, []) == ()
    used = [LockedRequirement("a", "1", "", (), (), "*", source_url="https://extra.example/simple")]
    assert index_options(poetry, used) == (("--extra-index-url", "https://extra.example/simple"),)


@pytest.mark.parametrize(
    ("requires", "also_locked", "cause"),
    [
        pytest.param({"vanished": ">=1.0"}, None, "walk failed at vanished", id="missing"),
        pytest.param({"six": "<1.17"}, "1.16.0", "elected `six (1.17.0)`", id="conflict"),
    ],
)
def test_a_lock_whose_walk_fails_is_one_clear_error(
    tmp_path: Path, requires: dict[str, str], also_locked: str | None, cause: str
) -> None:
    """Poetry 1.x locks are walked by poetry-plugin-export, which raises on broken ones:
    a required package missing from the lock, or two versions of one elected."""
    import tomlkit

    project = copy_fixture("lock-2.0", tmp_path)
    lock = project / "poetry.lock"
    document = tomlkit.parse(lock.read_text())
    packages = document["package"]
    attrs = next(p for p in packages if p["name"] == "attrs")
    attrs["dependencies"] = requires
    if also_locked:
        six = next(p for p in packages if p["name"] == "six")
        packages.append({**six, "version": also_locked, "files": []})
    lock.write_text(tomlkit.dumps(document))
    for verbosity in ((), ("-v",)):
        result = poetry_in_process(project, "docker", "build", "--print", *verbosity)
        assert result.returncode == 1
        assert "Traceback" not in result.output and "│" not in result.output, result.output
        message = result.stderr.strip()
        assert "\n" not in message, "one paragraph"
        assert str(lock) in message and "run `poetry lock`" in message and cause in message


def test_http_indexes_are_trusted_hosts() -> None:
    """pip ignores a plain-http index unless its host is trusted (127.0.0.1 aside)."""
    text = requirements_text(
        [requirement("pkg-1.0-py3-none-any.whl")],
        (
            ("--index-url", "http://pypi.corp.example:8080/simple"),
            ("--extra-index-url", "https://extra.example/simple"),
            ("--extra-index-url", "http://mirror.example/simple"),
        ),
    )
    options = [line for line in text.splitlines() if line.startswith("--")]
    assert options == [
        "--index-url http://pypi.corp.example:8080/simple",
        "--extra-index-url https://extra.example/simple",
        "--extra-index-url http://mirror.example/simple",
        "--trusted-host pypi.corp.example:8080",
        "--trusted-host mirror.example",
    ]


def test_hashes_without_an_algorithm_are_sha256(tmp_path: Path) -> None:
    """The oldest locks keep bare sha256 digests under [metadata.hashes], without file names."""
    import tomlkit

    project = copy_fixture("lock-1.1", tmp_path)
    lock = project / "poetry.lock"
    document = tomlkit.parse(lock.read_text())
    metadata = document["metadata"]
    files = metadata.pop("files")
    metadata["lock-version"] = "1.0"
    metadata["hashes"] = {
        name: [entry["hash"].removeprefix("sha256:") for entry in entries]
        for name, entries in files.items()
    }
    metadata["hashes"]["six"].append("md5:0123456789abcdef0123456789abcdef")
    lock.write_text(tomlkit.dumps(document))
    poetry = Factory().create_poetry(project)
    check_lock(poetry)
    by_name = {r.name: r for r in read_lock(poetry, ["main"], []).requirements}
    assert by_name["six"].hashes == tuple(sorted(entry["hash"] for entry in files["six"])), (
        "bare digests read as sha256, md5 (which pip refuses) dropped"
    )
    assert by_name["attrs"].hashes == tuple(sorted(entry["hash"] for entry in files["attrs"]))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:org/repo.git", "git+ssh://git@github.com/org/repo.git"),
        ("ssh://git@git.example:2222/org/repo.git", "git+ssh://git@git.example:2222/org/repo.git"),
        ("https://github.com/org/repo.git", "git+https://github.com/org/repo.git"),
        ("git://127.0.0.1:9418/repo.git", "git+git://127.0.0.1:9418/repo.git"),
    ],
)
def test_git_requirements_are_pep_508(url: str, expected: str) -> None:
    """An scp-like SSH address becomes the ``git+ssh://`` URL poetry-core writes for it."""
    from packaging.requirements import Requirement

    commit = "0123456789abcdef0123456789abcdef01234567"
    locked = LockedRequirement(
        "repo", "1.0", "", (), (), "*", source_url=url, kind="git", reference=commit
    )
    assert Requirement(locked.line()).url == f"{expected}@{commit}"
    assert locked.uses_ssh is expected.startswith("git+ssh://")


def test_missing_path_dependency(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "monorepo", tmp_path / "monorepo")
    shutil.rmtree(tmp_path / "monorepo" / "libs" / "mathlib")
    result = poetry_in_process(tmp_path / "monorepo" / "app", "docker", "build", "--print")
    assert result.returncode == 1
    assert "mathlib" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("url", "kind", "credential"),
    [
        ("git@github.com:org/repo.git", "git", False),  # the SSH user, no secret
        ("ssh://git@github.com/org/repo.git", "git", False),
        ("git+ssh://git@github.com/org/repo.git", "git", False),
        ("ssh://git:hunter2@github.com/org/repo.git", "git", True),
        ("https://github.com/org/repo.git", "git", False),
        ("https://x-access-token:ghp_abc@github.com/org/repo.git", "git", True),
        ("https://files.example/pkg-1.0.tar.gz", "url", False),
        ("https://user:pw@files.example/pkg-1.0.tar.gz", "url", True),
        ("https://files.example/pkg-1.0.tar.gz?token=abc", "url", True),
    ],
)
def test_a_url_that_authenticates_by_itself_is_a_credential(
    url: str, kind: str, credential: bool
) -> None:
    from poetry_docker_plugin.lock.read import _carries_credential

    assert _carries_credential(url, kind) is credential
