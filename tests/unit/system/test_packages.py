"""What the image needs from its system (issue 28): wheels judged per target platform, the
system packages that well-known sdists need, and the in-image check of shared libraries
(``resources/check_libraries.py``, run here on ELF files compiled for the test)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from poetry_docker_plugin.errors import DockerPluginError
from poetry_docker_plugin.lock.model import Lock, LockedRequirement
from poetry_docker_plugin.plan.decide import make_plan
from poetry_docker_plugin.plan.model import BaseImage, BuildPlan
from poetry_docker_plugin.platforms import Platform
from poetry_docker_plugin.project.facts import ProjectFacts
from poetry_docker_plugin.project.settings import Settings, load_settings
from poetry_docker_plugin.render.resources import check_libraries

PROJECT = ProjectFacts(
    pyproject_path=Path("/work/shop/pyproject.toml"),
    name="shop",
    version="1.0",
    python_constraint=">=3.10,<4",
    scripts=(),
)
# psycopg2 2.9.10 as PyPI publishes it: Windows wheels for each Python, and an sdist.
PSYCOPG2 = (
    "psycopg2-2.9.10-cp311-cp311-win_amd64.whl",
    "psycopg2-2.9.10-cp312-cp312-win_amd64.whl",
    "psycopg2-2.9.10-cp313-cp313-win_amd64.whl",
    "psycopg2-2.9.10.tar.gz",
)
NUMPY_312_ONLY = ("numpy-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",)


def locked(name: str, *files: str) -> LockedRequirement:
    return LockedRequirement(name, "1.0", "", ("sha256:" + "0" * 64,), files, "*")


def plan_of(
    *requirements: LockedRequirement,
    settings: Settings | None = None,
    base: BaseImage | None = None,
    machine: str = "x86_64",
) -> BuildPlan:
    lock = Lock(Path("/work/shop/poetry.lock"), requirements, ("main",), ())
    return make_plan(
        PROJECT,
        lock,
        settings or Settings(base_image="team/base:1", env_manager="conda"),
        platform=Platform.parse(f"linux/{machine}"),
        probe_base=lambda reference, _: base or BaseImage(reference, id="sha256:1", glibc="2.36"),
    )


def venv_base(python: str = "3.11") -> BaseImage:
    return BaseImage("team/venv:1", id="sha256:2", glibc="2.36", python=python, manager="venv")


def test_windows_only_wheels_and_an_sdist_are_built_on_linux_with_what_they_need() -> None:
    """psycopg2 was refused before anything was built ("no Linux wheel for it"): its Windows
    wheels do not narrow the Python, and its sdist is built with libpq-dev beside the compiler."""
    for settings, base in (
        (None, None),  # conda: the newest Python the project allows
        (Settings(base_image="team/venv:1"), venv_base()),  # venv: the base's own
    ):
        plan = plan_of(locked("psycopg2", *PSYCOPG2), settings=settings, base=base)
        assert plan.python == ("3.14" if base is None else "3.11")
        assert [r.name for r in plan.dependencies.built] == ["psycopg2"]
        assert {"build-essential", "libpq-dev"} <= set(plan.dependencies.build_tools)
        assert "libpq-dev" not in plan.environment.apt_packages, "build-only"


def test_only_wheels_for_the_target_platform_narrow_the_python() -> None:
    """A package with Linux x86_64 wheels for 3.12 only and an sdist: 3.12 on amd64; on arm64
    it has no wheel for the platform at all, so the newest Python, and it is built."""
    fast = locked("fast", *NUMPY_312_ONLY, "fast-1.0.tar.gz")
    assert plan_of(fast).python == "3.12"
    on_arm = plan_of(fast, machine="aarch64")
    assert on_arm.python == "3.14"
    assert [r.name for r in on_arm.dependencies.built] == ["fast"]


def test_python_is_honoured_where_a_build_is_possible() -> None:
    fast = locked("fast", *NUMPY_312_ONLY, "fast-1.0.tar.gz")
    settings = Settings(base_image="team/base:1", env_manager="conda", python="3.11")
    plan = plan_of(fast, settings=settings)
    assert plan.python == "3.11"
    assert [r.name for r in plan.dependencies.built] == ["fast"]


def test_a_package_no_image_can_install_is_refused_with_the_fix_that_helps() -> None:
    """Windows wheels and no sdist: no Python or base image helps, so neither is suggested."""
    for settings, base in ((None, None), (Settings(base_image="team/venv:1"), venv_base())):
        with pytest.raises(DockerPluginError) as refused:
            plan_of(
                locked("pywinonly", "pywinonly-1.0-cp311-cp311-win_amd64.whl"),
                settings=settings,
                base=base,
            )
        message = str(refused.value)
        assert "pywinonly 1.0" in message and "markers" in message
        assert "--python" not in message and "another Python" not in message


def test_the_venv_message_names_the_setting_that_helps() -> None:
    with pytest.raises(DockerPluginError) as refused:
        plan_of(
            locked("fast", *NUMPY_312_ONLY),
            settings=Settings(base_image="team/venv:1"),
            base=venv_base(),
        )
    message = str(refused.value)
    assert "`base-image`" in message and "fast 1.0" in message and "3.11" in message


def test_build_apt_packages_reach_the_wheels_stage_on_every_manager() -> None:
    table = {"build-apt-packages": ["libfoo-dev"], "apt-packages": ["curl"]}
    settings = load_settings(table, PROJECT.pyproject_path)
    for manager in ("conda", "venv"):
        chosen = Settings(
            **{**settings.__dict__, "base_image": "team/base:1", "env_manager": manager}
        )
        plan = plan_of(
            locked("ldapish", "ldapish-1.0.tar.gz"),
            settings=chosen,
            base=venv_base() if manager == "venv" else None,
        )
        assert plan.needs_builder
        assert plan.dependencies.build_tools[-1] == "libfoo-dev"
        assert plan.environment.apt_packages == ("curl",), "build-only packages do not ship"


def test_build_apt_packages_are_debian_names() -> None:
    with pytest.raises(DockerPluginError, match="build-apt-packages"):
        load_settings({"build-apt-packages": ["libfoo-dev\nRUN id"]}, PROJECT.pyproject_path)


def test_libraries_loaded_with_ctypes_are_in_the_runtime_image() -> None:
    plan = plan_of(locked("python-magic", "python_magic-0.4.27-py2.py3-none-any.whl"))
    assert "libmagic1" in plan.environment.apt_packages
    assert not plan.needs_builder
    psycopg = locked("psycopg", "psycopg-3.2.3-py3-none-any.whl")
    assert plan_of(psycopg).environment.apt_packages == ("libpq5",)
    binary = locked("psycopg-binary", "psycopg_binary-3.2.3-cp311-cp311-manylinux_2_17_x86_64.whl")
    assert plan_of(psycopg, binary).environment.apt_packages == (), "it brings its own libpq"


# The in-image check, on ELF files compiled here.


@pytest.fixture
def needy_library(tmp_path: Path) -> Path:
    """An environment holding ``libneedy.so``, linked against ``libghost.so.7`` (whose file is
    then removed) and libm (which every glibc system has)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is needed to compile the test's ELF files")
    build = tmp_path / "build"
    build.mkdir()
    (build / "ghost.c").write_text("int ghost(void) { return 7; }\n")
    (build / "needy.c").write_text(
        "#include <math.h>\nint ghost(void);\n"
        "double needy(double x) { return sqrt(x) + ghost(); }\n"
    )
    subprocess.run(
        [
            gcc,
            "-shared",
            "-fPIC",
            "-Wl,-soname,libghost.so.7",
            "-o",
            str(build / "libghost.so"),
            str(build / "ghost.c"),
        ],
        check=True,
    )
    prefix = tmp_path / "env"
    library = prefix / "lib" / "python3.11" / "site-packages" / "needy"
    library.mkdir(parents=True)
    subprocess.run(
        [
            gcc,
            "-shared",
            "-fPIC",
            "-o",
            str(library / "libneedy.so"),
            str(build / "needy.c"),
            f"-L{build}",
            "-lghost",
            "-lm",
        ],
        check=True,
    )
    info = library.parent / "needy-1.2.dist-info"
    info.mkdir()
    (info / "RECORD").write_text("needy/libneedy.so,,\n")
    return prefix


def test_the_check_reads_what_an_elf_file_needs(needy_library: Path) -> None:
    found = check_libraries.elf_needs(next(needy_library.rglob("libneedy.so")))
    assert found is not None
    _, needed, _ = found
    assert "libghost.so.7" in needed and "libm.so.6" in needed
    assert check_libraries.elf_needs(Path(__file__)) is None


def test_the_check_finds_what_nothing_provides(needy_library: Path) -> None:
    dynload = needy_library / "lib" / "python3.11" / "lib-dynload"
    dynload.mkdir()
    shutil.copy(next(needy_library.rglob("libneedy.so")), dynload / "_gdbm.so")
    missing = check_libraries.missing_libraries(needy_library, [])
    assert list(missing) == ["libghost.so.7"], "libm is the system's"
    assert [path.name for path in missing["libghost.so.7"]] == ["libneedy.so"], (
        "the interpreter's optional modules are the base's concern"
    )
    assert check_libraries.missing_libraries(needy_library, ["libghost.so.*"]) == {}
    # a library of the environment itself is found, as the loader finds it by the run path
    (needy_library / "lib" / "libghost.so.7").write_bytes(b"")
    assert check_libraries.missing_libraries(needy_library, []) == {}


def test_a_library_no_package_provides_fails_with_the_settings_that_fix_it(
    needy_library: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without apt-get (as in a distroless base) the step fails with one paragraph naming the
    library, the wheel that needs it, and the settings."""
    monkeypatch.setattr(check_libraries, "APT_DIRECTORIES", ())
    settings = tmp_path / "settings.json"
    settings.write_text(
        json.dumps({"prefix": str(needy_library), "ignore": [], "packages": {}, "clock_files": []})
    )
    assert check_libraries.main([str(settings)]) == 1
    said = capsys.readouterr().out
    assert said.startswith("poetry-docker: missing shared libraries:")
    assert (
        "libghost.so.7 (needed by needy 1.2: lib/python3.11/site-packages/needy/libneedy.so)"
        in said
    )
    assert "`apt-packages`" in said and "`ignore-libraries`" in said


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libgomp.so.1", "libgomp1"),
        ("libpq.so.5", "libpq5"),
        ("libsasl2.so.2", "libsasl2-2"),
        ("libldap-2.5.so.0", "libldap-2.5-0"),
        ("libgssapi_krb5.so.2", "libgssapi-krb5-2"),
        ("libGL.so.1", "libgl1"),
        ("libbz2.so.1.0", "libbz2-1.0"),
        ("libxml2.so.2", "libxml2"),  # the table's, not the policy's libxml2-2
        ("libz.so.1", "zlib1g"),
    ],
)
def test_the_debian_package_of_a_soname(soname: str, package: str) -> None:
    from poetry_docker_plugin.system.packages import SONAME_PACKAGES

    assert check_libraries.debian_candidates(soname, SONAME_PACKAGES)[0] == package


def test_the_check_is_told_the_prefix_and_what_not_to_look_for() -> None:
    """The host's GPU libraries always, then the user's `ignore-libraries`."""
    from poetry_docker_plugin.render.dockerfile import library_settings

    settings = load_settings(
        {"ignore-libraries": ["libfoo.so.1", "libbar-*.so*"]}, PROJECT.pyproject_path
    )
    chosen = Settings(**{**settings.__dict__, "base_image": "team/base:1", "env_manager": "conda"})
    told = json.loads(
        library_settings(plan_of(locked("pure", "pure-1.0-py3-none-any.whl"), settings=chosen))
    )
    assert told["prefix"] == "/opt/conda/envs/shop"
    assert told["ignore"][-2:] == ["libfoo.so.1", "libbar-*.so*"]
    assert "libcuda.so*" in told["ignore"]
    assert told["packages"]["libz.so.1"] == "zlib1g"
    with pytest.raises(DockerPluginError, match="ignore-libraries"):
        load_settings({"ignore-libraries": ["../etc/passwd"]}, PROJECT.pyproject_path)
